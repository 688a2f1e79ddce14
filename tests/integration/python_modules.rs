//! src/rules/python_modules.txt is what its generator prints from the real
//! packages at tracelab's pins: regenerated here from a fresh venv of a
//! generated workspace's requirements.txt (every backend) and compared.

use crate::common;

use std::process::Command;

#[test]
fn the_module_table_matches_the_real_packages_at_our_pins() {
    let (_dir, workspace) =
        common::new_workspace(&["--set", "backends=honeycomb,xray,cloudwatch,rollbar"]);
    let venv = common::app_venv(&workspace.join("backend-flask/requirements.txt"));
    let checkout = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = common::run_ok(
        Command::new(venv.join("bin/python"))
            .arg(checkout.join("src/rules/python_modules.py"))
            // Not the checkout: a module that reads the working directory
            // (flask's CLI does) must find nothing of ours there.
            .current_dir(std::env::temp_dir()),
    );
    let generated = String::from_utf8(output.stdout).unwrap();
    let committed = common::read(checkout.join("src/rules/python_modules.txt"));
    if generated != committed {
        let differing: Vec<String> = generated
            .lines()
            .zip(committed.lines())
            .filter(|(a, b)| a != b)
            .take(5)
            .map(|(a, b)| format!("generated: {:.200}\ncommitted: {:.200}", a, b))
            .collect();
        panic!(
            "src/rules/python_modules.txt is stale ({} lines generated, {} committed); regenerate it with src/rules/python_modules.py:\n{}",
            generated.lines().count(),
            committed.lines().count(),
            differing.join("\n")
        );
    }
}

/// A generated workspace installs the same packages next month: every
/// package in its venv (what requirements.txt pulls in, transitively) is
/// pinned by the constraints.txt beside it, at the version installed.
#[test]
fn the_workspace_lock_pins_every_installed_package() {
    let (_dir, workspace) =
        common::new_workspace(&["--set", "backends=honeycomb,xray,cloudwatch,rollbar"]);
    let backend = workspace.join("backend-flask");
    let venv = common::app_venv(&backend.join("requirements.txt"));
    let frozen = common::run_ok(
        Command::new(venv.join("bin/python")).args(["-m", "pip", "freeze", "--all"]),
    );
    let normal = |name: &str| name.to_ascii_lowercase().replace(['_', '.'], "-");
    let pins: Vec<String> = common::read(backend.join("constraints.txt"))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, rest) = l.split_once("==").unwrap();
            format!(
                "{}=={}",
                normal(name),
                rest.split(';').next().unwrap().trim()
            )
        })
        .collect();
    let installed = String::from_utf8(frozen.stdout).unwrap();
    let mut checked = 0;
    for line in installed.lines() {
        let (name, version) = line.split_once("==").unwrap();
        if ["pip", "setuptools", "wheel"].contains(&normal(name).as_str()) {
            continue;
        }
        let pin = format!("{}=={version}", normal(name));
        assert!(
            pins.contains(&pin),
            "{pin} is installed but constraints.txt does not pin it"
        );
        checked += 1;
    }
    assert!(
        checked > 30,
        "only {checked} packages installed:\n{installed}"
    );
}
