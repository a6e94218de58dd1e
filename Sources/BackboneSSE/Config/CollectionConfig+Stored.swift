import DocumentStore

extension CollectionConfig {
    /// What is wrong with `document` as a stored document of this collection (empty when
    /// nothing is): an `import` takes documents as the server wrote them, so besides
    /// the schema they must carry what the server keeps itself: a valid `id`, a
    /// positive integer `_v`, RFC 3339 `created` and `updated` when the collection has
    /// timestamps, and the owner field as a string when it has one.
    public func storedDocumentIssues(_ document: JSONObject) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        switch document["id"] {
        case .string(let id)? where DocumentID.isValid(id): break
        case .string?: issues.append(ValidationIssue(path: "/id", message: "is not a valid document id"))
        case nil: issues.append(ValidationIssue(path: "/id", message: "is required"))
        default: issues.append(ValidationIssue(path: "/id", message: "must be a string"))
        }
        switch document["_v"] {
        case .int(let v)? where v >= 1: break
        case nil: issues.append(ValidationIssue(path: "/_v", message: "is required"))
        default: issues.append(ValidationIssue(path: "/_v", message: "must be an integer of at least 1"))
        }
        if timestamps {
            for field in ["created", "updated"] {
                switch document[field] {
                case .string(let s)? where DateTime.isValid(s): break
                case nil: issues.append(ValidationIssue(path: "/\(field)", message: "is required"))
                default: issues.append(ValidationIssue(path: "/\(field)", message: "must be an RFC 3339 date-time"))
                }
            }
        }
        if let owner, let value = document[owner], value.stringValue == nil {
            issues.append(ValidationIssue(path: "/\(SchemaValidator.pointerEscape(owner))", message: "must be a string"))
        }
        // What a request body may not hold either (see `RequestBody`), on every store.
        for member in document.members where member.key == "_id" || member.key == "_c" || member.key.hasPrefix("$") {
            issues.append(
                ValidationIssue(
                    path: "/\(SchemaValidator.pointerEscape(member.key))", message: "is a reserved name (_id, _c and names starting with $)"
                ))
        }
        if Self.hasNULInName(.object(document)) {
            issues.append(ValidationIssue(path: "", message: "a member name contains a NUL character"))
        }
        var user = document
        for field in serverFields { _ = user.removeValue(forKey: field) }
        return issues + SchemaValidator.validate(.object(user), against: schema)
    }

    private static func hasNULInName(_ value: JSON) -> Bool {
        switch value {
        case .object(let object): object.members.contains { $0.key.utf8.contains(0) || hasNULInName($0.value) }
        case .array(let elements): elements.contains(where: hasNULInName)
        default: false
        }
    }
}
