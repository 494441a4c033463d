// swift-tools-version:6.0
// MetaEngine: the storage core of a replicated metadata service (see README.md and docs/FORMAT.md).
import PackageDescription

let package = Package(
    name: "MetaEngine",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "MetaLog", targets: ["MetaLog"]),
        .library(name: "MetaSnapshot", targets: ["MetaSnapshot"]),
        .library(name: "MetaFSM", targets: ["MetaFSM"]),
        .library(name: "MetaEngine", targets: ["MetaEngine"]),
        // The C ABI (header: Sources/CMetaEngine/include/metaengine.h) for hosts in other languages.
        .library(name: "MetaEngineC", type: .dynamic, targets: ["MetaEngineC"]),
        .executable(name: "metactl", targets: ["metactl"]),
        .executable(name: "Bench", targets: ["Bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.30.0"),
    ],
    targets: [
        // C modules. No unsafeFlags anywhere: instruction sets are enabled per function.
        .target(name: "CCRC32C", path: "Sources/CCRC32C"),
        .target(name: "CMetaLogSys", path: "Sources/CMetaLogSys"),
        .systemLibrary(
            name: "CLZ4", path: "Sources/CLZ4", pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(
            name: "CXXHash", path: "Sources/CXXHash", pkgConfig: "libxxhash",
            providers: [.apt(["libxxhash-dev"])]),

        // Libraries, imports flow one way: MetaLog, MetaSnapshot -> MetaFSM -> MetaEngine.
        .target(
            name: "MetaLog",
            dependencies: ["CCRC32C", "CMetaLogSys", .product(name: "SystemPackage", package: "swift-system")]),
        .target(
            name: "MetaSnapshot",
            dependencies: ["CLZ4", "CXXHash", .product(name: "SystemPackage", package: "swift-system")]),
        .target(
            name: "MetaFSM",
            dependencies: ["MetaSnapshot", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Proto/meta.proto"]),
        .target(name: "MetaEngine", dependencies: ["MetaLog", "MetaSnapshot", "MetaFSM"]),
        // The C ABI: the header and the allocation-free C helpers, then the Swift @_cdecl implementation.
        .target(name: "CMetaEngine", path: "Sources/CMetaEngine"),
        .target(name: "MetaEngineC", dependencies: ["CMetaEngine", "MetaLog", "MetaSnapshot", "MetaFSM"]),

        // Executables on top.
        .executableTarget(
            name: "metactl",
            dependencies: [
                "MetaLog", "MetaSnapshot", "MetaFSM", "MetaEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "Bench",
            dependencies: [
                "MetaLog", "MetaSnapshot", "MetaFSM", "MetaEngine", "CCRC32C", "CLZ4",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),
        // libFuzzer target for the snapshot reader (`make fuzz`); a plain build replays input files.
        .executableTarget(
            name: "SnapshotFuzz",
            dependencies: ["MetaSnapshot", "CXXHash", "FuzzSupport"]),
        // libFuzzer targets for MetaFSM's decoders and MetaLog's segment reading (`make fuzz`).
        .executableTarget(name: "InfluxFuzz", dependencies: ["MetaFSM", "FuzzSupport"]),
        .executableTarget(name: "LogFuzz", dependencies: ["MetaLog", "FuzzSupport"]),
        // The libFuzzer driver / file replay entry point the three fuzz executables share.
        .target(name: "FuzzSupport"),

        // Tests: one target per module.
        .testTarget(name: "CCRC32CTests", dependencies: ["CCRC32C"]),
        .testTarget(name: "MetaLogTests", dependencies: ["MetaLog"]),
        .testTarget(name: "MetaSnapshotTests", dependencies: ["MetaSnapshot"]),
        .testTarget(
            name: "MetaFSMTests", dependencies: ["MetaFSM", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .testTarget(name: "MetaEngineTests", dependencies: ["MetaEngine"]),
        .testTarget(name: "MetactlTests", dependencies: ["MetaLog", "MetaSnapshot"]),
    ]
)
