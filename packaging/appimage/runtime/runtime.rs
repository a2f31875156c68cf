//! Empty on purpose: this package exists so that `cargo metadata` (run by `packaging/appimage/pack.sh`)
//! downloads and unpacks the `appimage` crate, whose `assets/runtime-x86_64` becomes the head of
//! Kontor's `.AppImage`. Nothing here is built.
