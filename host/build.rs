//! Builds the session component (`guest/component`) for wasm32-wasip2 so the host can embed
//! it: `cargo build --release` at the root then yields a self-contained `redis-sessions`.
//!
//! The nested cargo gets its own target directory (no lock shared with this build) and an
//! environment cleaned of the outer build's target and flags.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const GUEST_PACKAGE: &str = "redis-sessions-guest";
const GUEST_ARTIFACT: &str = "redis_sessions_guest.wasm";
const WASM_TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .expect("host/ sits in the workspace root");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    for watched in ["guest", "wit", "Cargo.lock", "Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    // OUT_DIR is TARGET/PROFILE/build/PKG-HASH/out: one guest target directory for every
    // profile and every checkout sharing the target directory (worktrees, CARGO_TARGET_DIR,
    // scripts/readme-commands' fresh clone), so the guest's dependencies compile once.
    let target_dir = out_dir
        .ancestors()
        .nth(4)
        .map_or_else(|| out_dir.join("guest"), |t| t.join("wasm-guest"));
    std::fs::create_dir_all(&target_dir)
        .unwrap_or_else(|e| panic!("creating {}: {e}", target_dir.display()));
    // Checkouts' guests differ: hold the directory from the build until this checkout's
    // artifact is copied, so another checkout's build cannot replace it in between.
    let lock_path = target_dir.join("build.lock");
    let lock = std::fs::File::create(&lock_path)
        .unwrap_or_else(|e| panic!("creating {}: {e}", lock_path.display()));
    lock.lock()
        .unwrap_or_else(|e| panic!("locking {}: {e}", lock_path.display()));
    ensure_wasm_target();
    build_guest(root, &target_dir);

    let built = target_dir
        .join(WASM_TARGET)
        .join("guest")
        .join(GUEST_ARTIFACT);
    std::fs::copy(&built, out_dir.join(GUEST_ARTIFACT))
        .unwrap_or_else(|e| panic!("copying {}: {e}", built.display()));
    drop(lock);
}

/// A fresh rustup install lacks the guest's target, and rustup does not add the targets of a
/// `rust-toolchain.toml` to a toolchain that is already installed: add it here, so that
/// `cargo run` / `cargo install` work on a machine that has only rustup and cargo.
fn ensure_wasm_target() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    if let Some(sysroot) = &sysroot
        && sysroot.join("lib/rustlib").join(WASM_TARGET).is_dir()
    {
        return;
    }
    println!(
        "cargo:warning=the {WASM_TARGET} target is missing: running `rustup target add {WASM_TARGET}` \
         (the session component is built for it)"
    );
    match Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status()
    {
        Ok(status) if status.success() => {}
        Ok(status) => panic!(
            "`rustup target add {WASM_TARGET}` failed ({status}); run it by hand, then build again"
        ),
        Err(e) => panic!(
            "the {WASM_TARGET} target is missing and rustup could not be run ({e}): \
             install the target for this toolchain, then build again"
        ),
    }
}

fn build_guest(root: &Path, target_dir: &Path) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "-p", GUEST_PACKAGE, "--target", WASM_TARGET])
        .args(["--profile", "guest", "--target-dir"])
        .arg(target_dir);
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("running cargo for the guest component");
    if !status.success() {
        panic!(
            "building the guest component failed ({status}). \
             Is the target installed? `rustup target add wasm32-wasip2`"
        );
    }
}
