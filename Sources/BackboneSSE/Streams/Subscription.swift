import DocumentStore
import Foundation

/// What a stream listens to: one or more collections, possibly one document, possibly
/// a filter (which turns matching changes into `enter`/`leave`).
struct Subscription: Sendable {
    let collections: Set<String>
    let documentID: String?
    let filter: Filter?
    /// Per collection, for a subscriber who may read only its own documents: whose.
    var owners: [String: OwnerCondition] = [:]
    /// When the token that opened it expires (plus the leeway): the stream then gets
    /// `expired` and ends. Nil: anonymous, or auth off.
    var expires: Date?

    /// The owner field and the subscriber's `sub`.
    struct OwnerCondition: Sendable, Equatable {
        let field: String
        let subject: String
    }

    /// The frame this change becomes for this subscription, or nil if it is not its
    /// business.
    func frame(for frames: ChangeFrames) -> [UInt8]? {
        let change = frames.change
        guard collections.contains(change.collection) else { return nil }
        if let documentID, change.id != documentID { return nil }
        // Decided on the change itself (a delete carries the document it removed in
        // `previous`): no store query per subscriber. Owners never change, so the new
        // and the old document agree.
        if let owner = owners[change.collection] {
            guard let document = frames.newDocument ?? frames.oldDocument,
                document[owner.field]?.stringValue?.sameCodeUnits(as: owner.subject) == true
            else { return nil }
        }
        guard let filter else { return frames.operationFrame }
        let matchesNow = frames.newDocument.map(filter.matches) ?? false
        let matchedBefore = frames.oldDocument.map(filter.matches) ?? false
        switch (matchedBefore, matchesNow) {
        case (false, true): return change.operation == .create ? frames.operationFrame : frames.enter
        case (true, true): return frames.operationFrame
        case (true, false): return change.operation == .delete ? frames.operationFrame : frames.leave
        case (false, false): return nil
        }
    }
}
