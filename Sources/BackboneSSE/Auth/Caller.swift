/// What one caller may do on one collection, decided once per request from the rules
/// (`Authorization`) and carried into the service, which applies the owner conditions
/// inside the store's query or transaction.
public struct Caller: Sendable {
    /// The token's `sub` (nil: anonymous).
    public let subject: String?
    public let read: Permission
    public let create: Permission
    public let update: Permission
    public let delete: Permission

    public init(subject: String?, read: Permission, create: Permission, update: Permission, delete: Permission) {
        self.subject = subject
        self.read = read
        self.create = create
        self.update = update
        self.delete = delete
    }

    /// Without an `auth` block: everyone may do everything (today's behaviour).
    public static let unrestricted = Caller(subject: nil, read: .all, create: .all, update: .all, delete: .all)

    public init(identity: Identity?, access: CollectionAccess) {
        self.init(
            subject: identity?.subject, read: access.read.permission(for: identity), create: access.create.permission(for: identity),
            update: access.update.permission(for: identity), delete: access.delete.permission(for: identity))
    }
}
