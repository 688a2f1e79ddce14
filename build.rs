//! Links the unwinder statically on Linux with glibc, as the published wheel
//! already does (zig links its own): the binary then loads no
//! `libgcc_s.so.1`.
//!
//! Why: loading it was a tenth of a Rust hello-world's run here (0.76 against
//! 0.66 ms), most of it `libgcc_s`'s constructor asking the CPU what it is
//! (`cpuid`, a trap to the hypervisor in a VM, as on Gitpod), for a library
//! that only unwinds panics. Rust's standard library names `gcc_s` itself,
//! and Cargo has no stable `-static-libgcc`; so a linker script called
//! `libgcc_s.so`, found first, hands the linker GCC's own static unwinder,
//! `libgcc_eh.a`, instead, as GCC's `-static-libgcc` and Rust's
//! `crt-static` do.
//!
//! Left as it is (a dynamic `libgcc_s`, which works as well) when a linker
//! was chosen (`maturin --zig`), when cross-compiling, or when the C
//! compiler has no `libgcc_eh.a`.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if let Some(unwinder) = static_unwinder() {
        let dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
            .join("static-unwinder");
        std::fs::create_dir_all(&dir).expect("OUT_DIR is writable");
        let script = format!("INPUT({})\n", unwinder.display());
        std::fs::write(dir.join("libgcc_s.so"), script).expect("OUT_DIR is writable");
        println!("cargo:rustc-link-search=native={}", dir.display());
    }
}

/// GCC's static unwinder, when this build links with the system's `cc`
/// for the machine it runs on.
fn static_unwinder() -> Option<PathBuf> {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let glibc_linux = var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu";
    // crt-static already links it statically.
    let static_crt = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    let native = var("TARGET") == var("HOST");
    if !glibc_linux || static_crt || !native || std::env::var_os("RUSTC_LINKER").is_some() {
        return None;
    }
    // The path when cc has it, else the bare name back.
    let output = Command::new("cc")
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    (output.status.success() && path.is_absolute() && path.is_file()).then_some(path)
}
