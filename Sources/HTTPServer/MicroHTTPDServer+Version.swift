import CMicroHTTPD

extension MicroHTTPDServer {
    /// The libmicrohttpd this process runs with (the shared library's, not the headers').
    public static var libraryVersion: String { String(cString: MHD_get_version()) }
}
