//! The corpus AppCompatCache blobs, one per format the corpus has, shared by the
//! fuzz test and the benchmark.

/// Corpus-relative path of every blob.
pub const BLOBS: [&str; 8] = [
    "registry/appcompatcache/WinXP/WinXPx86.bin",
    "registry/appcompatcache/Win2008/Win2k8Standard.bin",
    "registry/appcompatcache/Win7/win7x86.bin",
    "registry/appcompatcache/Win7/win7x64.bin",
    "registry/appcompatcache/Win8.0/Win80.bin",
    "registry/appcompatcache/Win8.1/Win81.bin",
    "registry/appcompatcache/Win10/Win10.bin",
    "registry/appcompatcache/Win10/Win10Creators.bin",
];
