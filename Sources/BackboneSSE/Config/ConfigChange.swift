import DocumentStore

/// What reading the config file again would change in a running server, and what of
/// it cannot be applied live (then nothing is: the old config stays).
public struct ConfigChange: Sendable, CustomStringConvertible {
    /// Collections the new config declares and the old one did not.
    public var added: [String] = []
    /// Collections whose settings changed (schema, rules, indexes, limits, …).
    public var changed: [String] = []
    /// Of those, the ones whose `access` rules changed.
    public var rulesChanged: [String] = []
    /// The `auth` block changed (keys, issuer, rate limits, …).
    public var authChanged = false
    /// Why the change cannot be applied to a running server; empty when it can.
    public var refusals: [String] = []

    public var isEmpty: Bool { added.isEmpty && changed.isEmpty && !authChanged }

    /// Collections whose open streams were let in under rules that changed (nil: every
    /// collection's, when the `auth` block did: keys, roles claim, …); empty: none.
    var reauthorise: Set<String>? {
        authChanged ? nil : Set(rulesChanged)
    }

    public init(from old: AppConfig, to new: AppConfig) {
        let before = Dictionary(old.collections.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let after = Set(new.collections.map(\.name))
        for collection in new.collections {
            guard let previous = before[collection.name] else {
                added.append(collection.name)
                continue
            }
            guard previous.source != collection.source else { continue }
            changed.append(collection.name)
            if previous.access != collection.access { rulesChanged.append(collection.name) }
            if previous.owner != collection.owner {
                refusals.append(
                    "collections.\(collection.name).owner: from \(previous.owner ?? "none") to \(collection.owner ?? "none"): "
                        + "the documents hold their owner in the old field; restart to change it")
            }
            if previous.unique != collection.unique {
                refusals.append(
                    "collections.\(collection.name).unique: the store's unique indexes are made when a collection is first served; restart to change them"
                )
            }
        }
        for collection in old.collections where !after.contains(collection.name) {
            refusals.append(
                "collections.\(collection.name): removed; a running server keeps serving it (its documents stay in the store): restart to drop it"
            )
        }
        authChanged = old.authSource != new.authSource
        if (old.auth == nil) != (new.auth == nil) {
            refusals.append(
                "auth: \(old.auth == nil ? "added" : "removed"); turning authorisation on or off changes what every client may do at once: restart to do it"
            )
        }
    }

    public var description: String {
        var parts: [String] = []
        if !added.isEmpty { parts.append("added \(added.joined(separator: ","))") }
        if !changed.isEmpty { parts.append("changed \(changed.joined(separator: ","))") }
        if authChanged { parts.append("auth changed") }
        return parts.isEmpty ? "no change" : parts.joined(separator: "; ")
    }
}
