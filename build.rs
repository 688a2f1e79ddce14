//! Two things about how the binary is linked, each for its start-up time:
//!
//! **The unwinder, statically** on Linux with glibc, as the published wheel
//! already does (zig links its own): the binary then loads no
//! `libgcc_s.so.1`. Loading it was a tenth of a Rust hello-world's run here
//! (0.76 against 0.66 ms), most of it `libgcc_s`'s constructor asking the
//! CPU what it is (`cpuid`, a trap to the hypervisor in a VM, as on
//! Gitpod), for a library that only unwinds panics. Rust's standard library
//! names `gcc_s` itself, and Cargo has no stable `-static-libgcc`; so a
//! linker script called `libgcc_s.so`, found first, hands the linker GCC's
//! own static unwinder, `libgcc_eh.a`, instead, as GCC's `-static-libgcc`
//! and Rust's `crt-static` do. Left as it is (a dynamic `libgcc_s`, which
//! works as well) when a linker was chosen (`maturin --zig`), when
//! cross-compiling, or when the C compiler has no `libgcc_eh.a`.
//!
//! **The functions a doctor or `new` runs, side by side** at the start of
//! the code (`link/symbol-order.txt`, lld's `--symbol-ordering-file`; made
//! by `examples/link_order.sh`). Spread over 12 MB of code, they cost the
//! doctor 109 page faults in code, each mapping 64 kB around it; side by
//! side, 58, and the doctor 4.5% less time (`examples/ab.sh`). Only
//! where rustc links with its own lld (x86-64 Linux, Rust 1.90 on) and
//! nothing chose another linker: GNU ld knows no such option. A name the
//! build no longer has (other dependencies, another toolchain) is skipped
//! by lld: such a binary is as it was without the file, no slower.

use std::path::PathBuf;
use std::process::Command;

/// Made by `examples/link_order.sh`, read by lld.
const SYMBOL_ORDER: &str = "link/symbol-order.txt";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    link_unwinder_statically();
    link_hot_functions_together();
}

fn link_unwinder_statically() {
    if let Some(unwinder) = static_unwinder() {
        let dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
            .join("static-unwinder");
        std::fs::create_dir_all(&dir).expect("OUT_DIR is writable");
        let script = format!("INPUT({})\n", unwinder.display());
        std::fs::write(dir.join("libgcc_s.so"), script).expect("OUT_DIR is writable");
        println!("cargo:rustc-link-search=native={}", dir.display());
    }
}

/// A variable cargo gives build scripts, empty when unset.
fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

/// This build is for the machine it runs on, linked as rustc chooses: no
/// cross-compiling, and no linker set (`maturin --zig` sets zig's).
fn native_with_rustcs_linker() -> bool {
    var("TARGET") == var("HOST") && std::env::var_os("RUSTC_LINKER").is_none()
}

/// GCC's static unwinder, when this build links with the system's `cc`
/// for the machine it runs on.
fn static_unwinder() -> Option<PathBuf> {
    let glibc_linux = var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu";
    // crt-static already links it statically.
    let static_crt = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    if !glibc_linux || static_crt || !native_with_rustcs_linker() {
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

/// Hands lld the order of the functions that runs use, and (for
/// `examples/link_order.sh`, which sets `TRACELAB_LINK_MAP`) asks it for a
/// map of where each function went.
fn link_hot_functions_together() {
    let order = PathBuf::from(var("CARGO_MANIFEST_DIR")).join(SYMBOL_ORDER);
    let have_order = order.is_file();
    // Watched only when there: a missing file would run this every build.
    if have_order {
        println!("cargo:rerun-if-changed={SYMBOL_ORDER}");
    }
    println!("cargo:rerun-if-env-changed=TRACELAB_LINK_MAP");
    if std::env::var("PROFILE").as_deref() != Ok("release") || !rustc_links_with_lld() {
        return;
    }
    let linker_args = |args: &[&str]| {
        for arg in args {
            // One argument each, whatever the path holds (-Wl splits at commas).
            println!("cargo:rustc-link-arg-bins=-Xlinker");
            println!("cargo:rustc-link-arg-bins={arg}");
        }
    };
    if have_order {
        linker_args(&[
            &format!("--symbol-ordering-file={}", order.display()),
            // Names of another build's functions are expected, not news.
            "--no-warn-symbol-ordering",
        ]);
    }
    if let Some(map) = std::env::var_os("TRACELAB_LINK_MAP") {
        let map = PathBuf::from(map);
        linker_args(&[&format!("-Map={}", map.display()), "--no-demangle"]);
    }
}

/// Whether rustc links this build with its own lld, which it does by default
/// on x86-64 Linux since Rust 1.90 (a distribution's rustc may come without
/// it), unless a linker was chosen (Cargo's `linker` setting, or rustflags
/// about the linker).
fn rustc_links_with_lld() -> bool {
    let linker_flags = ["linker", "link-self-contained", "fuse-ld"]
        .iter()
        .any(|flag| var("CARGO_ENCODED_RUSTFLAGS").contains(flag));
    if var("TARGET") != "x86_64-unknown-linux-gnu" || !native_with_rustcs_linker() || linker_flags {
        return false;
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let ask = |arg: &str| {
        let output = Command::new(&rustc).arg(arg).output().ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    // "rustc 1.95.0 (59807616e 2026-04-14)"
    let minor = ask("--version").and_then(|version| {
        let number = version.split_whitespace().nth(1)?.to_string();
        number.split('.').nth(1)?.parse::<u32>().ok()
    });
    let sysroot = ask("--print=sysroot");
    let own_lld = sysroot.is_some_and(|root| {
        PathBuf::from(root)
            .join("lib/rustlib/x86_64-unknown-linux-gnu/bin/gcc-ld/ld.lld")
            .is_file()
    });
    minor.is_some_and(|minor| minor >= 90) && own_lld
}
