import DocumentStore

extension Schema {
    /// This schema written back as JSON Schema: what a collection built without a config
    /// file (no `source`) shows in the OpenAPI document. Annotations are not kept.
    var jsonSchema: JSON {
        var members: [(key: String, value: JSON)] = []
        if let types {
            let names = types.sorted()
            members.append(("type", names.count == 1 ? .string(names[0]) : .array(names.map(JSON.string))))
        }
        if !properties.isEmpty {
            members.append(("properties", .object(JSONObject(properties.map { ($0.name, $0.schema.jsonSchema) }))))
        }
        if !required.isEmpty { members.append(("required", .array(required.map(JSON.string)))) }
        switch additionalProperties {
        case .allowed: break
        case .forbidden: members.append(("additionalProperties", .bool(false)))
        case .schema(let schema): members.append(("additionalProperties", schema.jsonSchema))
        }
        if let enumeration { members.append(("enum", .array(enumeration))) }
        if let minimum { members.append(("minimum", Self.number(minimum))) }
        if let maximum { members.append(("maximum", Self.number(maximum))) }
        if let minLength { members.append(("minLength", .int(Int64(minLength)))) }
        if let maxLength { members.append(("maxLength", .int(Int64(maxLength)))) }
        if let pattern { members.append(("pattern", .string(pattern.source))) }
        if let items { members.append(("items", items.jsonSchema)) }
        if let defaultValue { members.append(("default", defaultValue)) }
        if isDateTime { members.append(("format", .string("date-time"))) }
        return .object(JSONObject(members))
    }

    private static func number(_ d: Double) -> JSON {
        d.rounded() == d && abs(d) < 9e15 ? .int(Int64(d)) : .double(d)
    }
}
