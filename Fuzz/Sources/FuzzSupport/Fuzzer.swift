#if canImport(Glibc)
    import Glibc
#endif

/// libFuzzer's entry point for a program with a `main` of its own (SwiftPM gives every
/// executable one, so libFuzzer's `main` is not the one that runs).
@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The one test of this process. libFuzzer calls back through a C function pointer,
/// which cannot capture it; it is set once, before the driver starts.
nonisolated(unsafe) private var currentTest: (([UInt8]) -> Void)?

/// The callback libFuzzer runs each input through. It has libFuzzer's name as well:
/// libFuzzer's own `main`, linked in though never run, refers to it.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    currentTest?(bytes)
    return 0
}

public enum Fuzzer {
    /// Runs libFuzzer with this process's arguments, calling `test` with each input;
    /// a failed check in `test` is a crash (`precondition`), which libFuzzer reports.
    /// Never returns.
    public static func run(_ test: @escaping ([UInt8]) -> Void) -> Never {
        currentTest = test
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runDriver(&argc, &argv, testOneInput))
    }

    /// Fails the run with a message naming the input, as libFuzzer expects of a check.
    public static func check(_ condition: Bool, _ message: @autoclosure () -> String, input: [UInt8]) {
        guard !condition else { return }
        let shown = String(decoding: input.prefix(300), as: UTF8.self).debugDescription
        fatalError("\(message()) (input \(shown))")
    }
}
