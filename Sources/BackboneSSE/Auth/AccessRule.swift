/// One rule of DESIGN.md §5: who may do an action.
public enum AccessRule: Sendable, Equatable, CustomStringConvertible {
    /// Anyone, with or without a token.
    case anyone
    /// Anyone with a valid token.
    case user
    /// A user, on the documents whose owner field holds their `sub`.
    case owner
    /// A user whose roles claim names this role.
    case role(String)
    /// No one (the action is closed).
    case nobody

    /// `anyone`, `user`, `owner`, `role:NAME` or `nobody`; nil for anything else.
    public init?(_ text: String) {
        switch text {
        case "anyone": self = .anyone
        case "user": self = .user
        case "owner": self = .owner
        case "nobody": self = .nobody
        default:
            guard text.hasPrefix("role:"), text.count > 5 else { return nil }
            self = .role(String(text.dropFirst(5)))
        }
    }

    public var description: String {
        switch self {
        case .anyone: "anyone"
        case .user: "user"
        case .owner: "owner"
        case .role(let name): "role:\(name)"
        case .nobody: "nobody"
        }
    }
}

/// A rule or a list of rules, any of which allows.
public struct AccessRules: Sendable, Equatable {
    public let rules: [AccessRule]

    public init(_ rules: [AccessRule]) { self.rules = rules }

    /// Secure by default: a collection without `access`, when auth is on.
    public static let user = AccessRules([.user])
    public static let anyone = AccessRules([.anyone])

    public var mentionsOwner: Bool { rules.contains(.owner) }

    /// What these rules let `identity` (nil: anonymous) do: everything, only its own
    /// documents, or nothing. The widest rule that applies wins.
    public func permission(for identity: Identity?) -> Permission {
        var owned = false
        for rule in rules {
            switch rule {
            case .anyone: return .all
            case .user: if identity != nil { return .all }
            case .role(let name): if identity?.roles.contains(where: { $0.sameCodeUnits(as: name) }) == true { return .all }
            case .owner: if identity != nil { owned = true }
            case .nobody: break
            }
        }
        if owned, let identity { return .owned(by: identity.subject) }
        return .none
    }

    /// Would a token have helped? (Then a refusal of an anonymous request is 401, not 403.)
    public var aUserMightPass: Bool {
        rules.contains { $0 != .nobody }
    }
}

/// What a caller may do with one action on one collection.
public enum Permission: Sendable, Equatable {
    case all
    /// Only on documents whose owner field is this `sub`.
    case owned(by: String)
    case none

    public var allowsAny: Bool { self != .none }
}

/// The four actions of a collection's `access`.
public enum CollectionAction: String, Sendable, CaseIterable {
    case read, create, update, delete
}

/// A collection's `access` block; an action not named is `user`.
public struct CollectionAccess: Sendable, Equatable {
    public var read: AccessRules
    public var create: AccessRules
    public var update: AccessRules
    public var delete: AccessRules

    public init(read: AccessRules = .user, create: AccessRules = .user, update: AccessRules = .user, delete: AccessRules = .user) {
        self.read = read
        self.create = create
        self.update = update
        self.delete = delete
    }

    public subscript(action: CollectionAction) -> AccessRules {
        get {
            switch action {
            case .read: read
            case .create: create
            case .update: update
            case .delete: delete
            }
        }
        set {
            switch action {
            case .read: read = newValue
            case .create: create = newValue
            case .update: update = newValue
            case .delete: delete = newValue
            }
        }
    }
}
