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
        .library(name: "MetaInflux", targets: ["MetaInflux"]),
        .library(name: "MetaKV", targets: ["MetaKV"]),
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
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    ],
    targets: [
        // C modules. No unsafeFlags anywhere: instruction sets are enabled per function.
        .target(name: "CCRC32C", path: "Sources/CCRC32C"),
        .target(name: "CMetaLogSys", path: "Sources/CMetaLogSys"),
        .target(name: "CPrefetch", path: "Sources/CPrefetch"),
        .systemLibrary(
            name: "CLZ4", path: "Sources/CLZ4", pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(
            name: "CXXHash", path: "Sources/CXXHash", pkgConfig: "libxxhash",
            providers: [.apt(["libxxhash-dev"])]),

        // Libraries, imports flow one way: MetaLog, MetaSnapshot -> MetaFSM -> MetaInflux (and other
        // models, each a target of its own so a host links only the one it uses) -> MetaEngine.
        .target(
            name: "MetaLog",
            dependencies: ["CCRC32C", "CMetaLogSys", .product(name: "SystemPackage", package: "swift-system")]),
        .target(
            name: "MetaSnapshot",
            dependencies: ["CLZ4", "CXXHash", .product(name: "SystemPackage", package: "swift-system")]),
        .target(name: "MetaFSM", dependencies: ["MetaSnapshot"]),
        .target(name: "MetaInflux", dependencies: ["MetaFSM", "MetaSnapshot"]),
        .target(name: "MetaKV", dependencies: ["CPrefetch", "MetaFSM", "MetaSnapshot"]),
        // swift-protobuf code generated from the .proto files beside it: for cross-checks in tests and
        // Bench only, never linked by a library product.
        .target(
            name: "GeneratedProto",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["meta.proto", "etcd.proto"]),
        .target(
            name: "MetaEngine",
            dependencies: [
                "MetaLog", "MetaSnapshot", "MetaFSM",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        // The C ABI: the header and the allocation-free C helpers, then the Swift @_cdecl implementation.
        .target(name: "CMetaEngine", path: "Sources/CMetaEngine"),
        .target(
            name: "MetaEngineC",
            dependencies: ["CMetaEngine", "MetaLog", "MetaSnapshot", "MetaFSM", "MetaInflux", "MetaKV", "MetaEngine"]),

        // Executables on top.
        .executableTarget(
            name: "metactl",
            dependencies: [
                "MetaLog", "MetaSnapshot", "MetaFSM", "MetaInflux", "MetaKV", "MetaEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "Bench",
            dependencies: [
                "MetaLog", "MetaSnapshot", "MetaFSM", "MetaInflux", "MetaKV", "MetaEngine", "CCRC32C", "CLZ4", "GeneratedProto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),
        // libFuzzer target for the snapshot reader (`make fuzz`); a plain build replays input files.
        .executableTarget(
            name: "SnapshotFuzz",
            dependencies: ["MetaSnapshot", "CXXHash", "FuzzSupport"]),
        // libFuzzer targets for MetaFSM's decoders and MetaLog's segment reading (`make fuzz`).
        .executableTarget(name: "InfluxFuzz", dependencies: ["MetaInflux", "FuzzSupport"]),
        .executableTarget(name: "LogFuzz", dependencies: ["MetaLog", "FuzzSupport"]),
        // libFuzzer target for MetaKV's codec and apply (`make fuzz`).
        .executableTarget(name: "KVFuzz", dependencies: ["MetaKV", "FuzzSupport"]),
        // The libFuzzer driver / file replay entry point the three fuzz executables share.
        .target(name: "FuzzSupport"),

        // Tests: one target per module.
        .testTarget(name: "CCRC32CTests", dependencies: ["CCRC32C"]),
        .testTarget(name: "MetaLogTests", dependencies: ["MetaLog"]),
        .testTarget(name: "MetaSnapshotTests", dependencies: ["MetaSnapshot", "MetaLog"]),
        .testTarget(
            name: "MetaInfluxTests",
            dependencies: [
                "MetaFSM", "MetaInflux", "MetaSnapshot", "GeneratedProto",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),
        .testTarget(
            name: "MetaKVTests",
            dependencies: [
                "MetaFSM", "MetaKV", "MetaSnapshot", "MetaLog", "GeneratedProto",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),
        .testTarget(
            name: "MetaEngineTests",
            dependencies: ["MetaEngine", "MetaLog", "MetaSnapshot", "MetaFSM", "MetaInflux",
                           .product(name: "MetricsTestKit", package: "swift-metrics")]),
        .testTarget(name: "MetactlTests", dependencies: ["MetaLog", "MetaSnapshot", "MetaEngine", "MetaInflux", "MetaKV"]),
    ]
)
