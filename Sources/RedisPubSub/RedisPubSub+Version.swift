import CHiredis

extension RedisPubSub {
    /// The hiredis this process was built with (hiredis has no run-time version call).
    public static var libraryVersion: String { "\(HIREDIS_MAJOR).\(HIREDIS_MINOR).\(HIREDIS_PATCH)" }
}
