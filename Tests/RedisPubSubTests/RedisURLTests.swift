import Testing

@testable import RedisPubSub

@Suite struct RedisURLTests {
    @Test func defaults() throws {
        let url = try RedisURL(parsing: "redis://cache.internal")
        #expect(url == RedisURL(host: "cache.internal", port: 6379, database: 0))
        #expect(url.description == "redis://cache.internal:6379/0")
    }

    @Test func everyPart() throws {
        let url = try RedisURL(parsing: "redis://:s3cret@10.0.0.7:6380/2")
        #expect(url == RedisURL(host: "10.0.0.7", port: 6380, database: 2, user: nil, password: "s3cret"))
        let acl = try RedisURL(parsing: "REDIS://app:p%40ss%3Aword@[::1]:7000/")
        #expect(acl == RedisURL(host: "::1", port: 7000, database: 0, user: "app", password: "p@ss:word"))
        // The last "@" ends the credentials, so a raw "@" in a password still parses.
        #expect(try RedisURL(parsing: "redis://:a@b@host").password == "a@b")
    }

    @Test func descriptionNeverShowsThePassword() throws {
        let url = try RedisURL(parsing: "redis://app:hunter2@host:1/3")
        #expect(url.description == "redis://app:***@host:1/3")
        #expect(try RedisURL(parsing: "redis://[::1]").description == "redis://[::1]:6379/0")
        #expect(!"\(RedisURLError.port("x"))".contains("hunter2"))
    }

    @Test(arguments: [
        ("http://host", RedisURLError.scheme("http")),
        ("rediss://host", .scheme("rediss")),
        ("host:6379", .scheme(nil)),
        ("redis://", .host),
        ("redis://:6379", .host),
        ("redis://[::1", .host),
        ("redis://[::1]x", .host),
        ("redis://host:", .port("")),
        ("redis://host:0", .port("0")),
        ("redis://host:65536", .port("65536")),
        ("redis://host:abc", .port("abc")),
        ("redis://host/x", .database("x")),
        ("redis://host/-1", .database("-1")),
        ("redis://host/1/2", .database("1/2")),
        ("redis://password@host", .credentialsWithoutPassword),
        ("redis://:%zz@host", .percentEscape),
        ("redis://host/0?timeout=1", .queryOrFragment),
    ])
    func malformed(text: String, error: RedisURLError) {
        #expect(throws: error) { try RedisURL(parsing: text) }
    }

    @Test func errorsSayWhatIsWrong() {
        #expect("\(RedisURLError.scheme("rediss"))" == "the scheme must be redis://, not rediss://")
        #expect("\(RedisURLError.port("0"))".contains("1 to 65535"))
    }
}
