import DocumentStore
import Foundation

/// The `auth` block and the collections' `owner` and `access` (DESIGN.md §5). A config
/// that turns auth on must leave the server able to verify tokens: a key that cannot be
/// read stops the start, naming the key, the variable or the file.
enum AuthConfigLoader {
    static let authKeys: Set<String> = ["jwt", "metrics", "rate_limit", "ticket_secret_env"]
    static let jwtKeys: Set<String> = ["secret_env", "public_keys", "issuer", "audience", "leeway", "roles_claim"]

    static func auth(_ json: JSON, context: ConfigContext) throws(ConfigError) -> AuthConfig {
        let object = try mapping(json, key: "auth", allowed: authKeys)
        guard let jwtValue = object["jwt"] else {
            throw ConfigError(key: "auth.jwt", message: "is missing: name a secret_env or public_keys to verify tokens with")
        }
        let jwt = try mapping(jwtValue, key: "auth.jwt", allowed: jwtKeys)
        var keys: [VerificationKey] = []
        if let name = try string(jwt["secret_env"], key: "auth.jwt.secret_env") {
            // The secret itself is never printed, only the variable's name.
            guard let secret = context.environment[name], !secret.isEmpty else {
                throw ConfigError(key: "auth.jwt.secret_env", message: "the environment variable \(name) is not set (or empty)")
            }
            guard secret.utf8.count >= 32 else {
                throw ConfigError(key: "auth.jwt.secret_env", message: "the secret in \(name) is shorter than 32 bytes")
            }
            keys.append(.hmac(.init(from: secret), bytes: secret.utf8.count))
        }
        if let paths = jwt["public_keys"] {
            guard case .array(let items) = paths else {
                throw ConfigError(key: "auth.jwt.public_keys", message: "must be a list of PEM file paths")
            }
            for (i, item) in items.enumerated() {
                let key = "auth.jwt.public_keys[\(i)]"
                guard let path = item.stringValue, !path.isEmpty else { throw ConfigError(key: key, message: "must be a file path") }
                let file = path.hasPrefix("/") ? path : URL(fileURLWithPath: context.directory).appendingPathComponent(path).path
                guard let data = FileManager.default.contents(atPath: file), let pem = String(data: data, encoding: .utf8) else {
                    throw ConfigError(key: key, message: "cannot read \(file)")
                }
                guard let verificationKey = VerificationKey.publicKey(pem: pem) else {
                    throw ConfigError(
                        key: key, message: "\(file) holds no PEM public key of a supported kind (RSA, EC P-256/P-384, Ed25519)")
                }
                keys.append(verificationKey)
            }
        }
        guard !keys.isEmpty else {
            throw ConfigError(key: "auth.jwt", message: "names no key: set secret_env or public_keys")
        }
        var config = AuthConfig(keys: keys)
        config.issuer = try string(jwt["issuer"], key: "auth.jwt.issuer")
        config.audience = try string(jwt["audience"], key: "auth.jwt.audience")
        if let leeway = jwt["leeway"] {
            guard case .int(let seconds) = leeway, seconds >= 0, seconds <= 3600 else {
                throw ConfigError(key: "auth.jwt.leeway", message: "must be whole seconds from 0 to 3600")
            }
            config.leeway = Int(seconds)
        }
        config.rolesClaim = try string(jwt["roles_claim"], key: "auth.jwt.roles_claim") ?? "roles"
        if let metrics = object["metrics"] {
            config.metrics = try rules(metrics, key: "auth.metrics")
            if config.metrics.mentionsOwner {
                throw ConfigError(key: "auth.metrics", message: "'owner' is about documents; /metrics has none")
            }
        }
        if let limits = object["rate_limit"] {
            let limit = try mapping(limits, key: "auth.rate_limit", allowed: ["reads", "writes"])
            func count(_ name: String) throws(ConfigError) -> Int? {
                guard let value = limit[name] else { return nil }
                guard case .int(let n) = value, n > 0 else {
                    throw ConfigError(key: "auth.rate_limit.\(name)", message: "must be a positive number of requests per minute")
                }
                return Int(n)
            }
            config.rateLimit = AuthConfig.RateLimit(reads: try count("reads"), writes: try count("writes"))
        }
        config.ticketSecretEnv = try string(object["ticket_secret_env"], key: "auth.ticket_secret_env")
        if let name = config.ticketSecretEnv {
            config.ticketSecret = try ticketSecret(name, context: context, jwtSecretEnv: jwt["secret_env"]?.stringValue)
        }
        return config
    }

    /// The ticket key from its variable: 32 bytes or more (HMAC-SHA256's), and not the
    /// JWT secret (a key that signs tickets must not also vouch for tokens).
    static func ticketSecret(_ name: String, context: ConfigContext, jwtSecretEnv: String?) throws(ConfigError) -> [UInt8] {
        let key = "auth.ticket_secret_env"
        guard let secret = context.environment[name], !secret.isEmpty else {
            throw ConfigError(key: key, message: "the environment variable \(name) is not set (or empty)")
        }
        guard secret.utf8.count >= 32 else { throw ConfigError(key: key, message: "the secret in \(name) is shorter than 32 bytes") }
        if let jwtSecretEnv, context.environment[jwtSecretEnv] == secret {
            throw ConfigError(key: key, message: "\(name) holds the JWT secret (auth.jwt.secret_env): give tickets a key of their own")
        }
        return Array(secret.utf8)
    }

    /// A collection's `owner`: a top-level field name.
    static func owner(_ json: JSON?, key: String) throws(ConfigError) -> String? {
        guard let json else { return nil }
        guard let name = json.stringValue, FieldPath.isValidComponent(name), !["id", "_v", "created", "updated"].contains(name) else {
            throw ConfigError(key: key, message: "must be a top-level field name (not id, _v, created or updated)")
        }
        return name
    }

    /// A collection's `access`: `read`, `create`, `update`, `delete`, each a rule or a list.
    static func access(_ json: JSON, key: String) throws(ConfigError) -> CollectionAccess {
        let object = try mapping(json, key: key, allowed: Set(CollectionAction.allCases.map(\.rawValue)))
        var access = CollectionAccess()
        for action in CollectionAction.allCases {
            if let value = object[action.rawValue] { access[action] = try rules(value, key: "\(key).\(action.rawValue)") }
        }
        return access
    }

    /// `owner` and `access` only mean something with auth on; `owner` rules need the field.
    static func check(_ collections: [CollectionConfig], declared: JSONObject, auth: AuthConfig?) throws(ConfigError) {
        for collection in collections {
            let key = "collections.\(collection.name)"
            if auth == nil {
                // Rules that look enforced but are not would be worse than none.
                if collection.access != nil {
                    throw ConfigError(
                        key: "\(key).access", message: "needs the top-level 'auth' block (without it every request is allowed)")
                }
                if collection.owner != nil {
                    throw ConfigError(key: "\(key).owner", message: "needs the top-level 'auth' block (without it there are no users)")
                }
            }
            if let access = collection.access, collection.owner == nil {
                for action in CollectionAction.allCases where access[action].mentionsOwner {
                    throw ConfigError(key: "\(key).access.\(action.rawValue)", message: "'owner' needs the collection's 'owner' field")
                }
            }
            if let owner = collection.owner, collection.unique.contains(where: { $0.components == [owner] }) {
                throw ConfigError(key: "\(key).unique", message: "cannot hold the owner field (one document per user is not a rule here)")
            }
        }
    }

    static func rules(_ json: JSON, key: String) throws(ConfigError) -> AccessRules {
        let texts: [(String, JSON)]
        switch json {
        case .string: texts = [(key, json)]
        case .array(let items) where !items.isEmpty: texts = items.enumerated().map { ("\(key)[\($0.offset)]", $0.element) }
        default: throw ConfigError(key: key, message: "must be a rule or a list of rules (anyone, user, owner, role:NAME, nobody)")
        }
        var rules: [AccessRule] = []
        for (itemKey, item) in texts {
            guard let text = item.stringValue, let rule = AccessRule(text) else {
                throw ConfigError(key: itemKey, message: "must be anyone, user, owner, role:NAME or nobody")
            }
            rules.append(rule)
        }
        return AccessRules(rules)
    }

    private static func mapping(_ json: JSON, key: String, allowed: Set<String>) throws(ConfigError) -> JSONObject {
        guard case .object(let object) = json else { throw ConfigError(key: key, message: "must be a mapping") }
        for k in object.keys where !allowed.contains(k) {
            throw ConfigError(key: "\(key).\(k)", message: "unknown key (one of \(allowed.sorted().joined(separator: ", ")))")
        }
        return object
    }

    private static func string(_ json: JSON?, key: String) throws(ConfigError) -> String? {
        guard let json else { return nil }
        guard let s = json.stringValue, !s.isEmpty else { throw ConfigError(key: key, message: "must be a non-empty string") }
        return s
    }
}
