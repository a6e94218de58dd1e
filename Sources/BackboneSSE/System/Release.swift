/// This release's version: the one source of `backbone-sse --version`, `/metrics`'
/// `backbone_sse_build_info`, openapi.yaml's `info.version` and backbone-sse.js's
/// `BackboneSSE.version` (a test holds the last two to it).
public enum Release {
    public static let version = "0.3.0"
}
