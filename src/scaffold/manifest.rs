//! Which file each template becomes, and when it is part of the workspace.
//! Templates are embedded so an installed binary works from any directory.

use crate::answers::Answers;
use crate::backend::Backend;

pub struct FileSpec {
    /// Path inside the workspace, always relative and `/`-separated.
    pub path: &'static str,
    pub template: &'static str,
    pub when: fn(&Answers) -> bool,
}

macro_rules! embed {
    ($path:literal, $template:literal, $when:expr) => {
        FileSpec {
            path: $path,
            template: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/templates/",
                $template
            )),
            when: $when,
        }
    };
}

fn always(_: &Answers) -> bool {
    true
}

/// Where a workspace records its answers (read by the model too).
pub use crate::workspace::ANSWERS_FILE;

pub static FILES: &[FileSpec] = &[
    embed!(
        "backend-flask/requirements.txt",
        "backend-flask/requirements.txt.j2",
        always
    ),
    embed!(
        "backend-flask/constraints.txt",
        "backend-flask/constraints.txt.j2",
        always
    ),
    embed!("backend-flask/app.py", "backend-flask/app.py.j2", always),
    embed!(
        "backend-flask/services/__init__.py",
        "backend-flask/services/__init__.py.j2",
        always
    ),
    embed!(
        "backend-flask/services/home_activities.py",
        "backend-flask/services/home_activities.py.j2",
        always
    ),
    embed!(
        "backend-flask/Dockerfile",
        "backend-flask/Dockerfile.j2",
        always
    ),
    embed!(
        "backend-flask/Dockerfile.prod",
        "backend-flask/Dockerfile.prod.j2",
        always
    ),
    embed!(
        "backend-flask/.dockerignore",
        "backend-flask/dockerignore.j2",
        always
    ),
    embed!("docker-compose.yml", "docker-compose.yml.j2", always),
    embed!(".gitpod.yml", "gitpod.yml.j2", |a| a.gitpod),
    embed!(
        ".devcontainer/devcontainer.json",
        "devcontainer/devcontainer.json.j2",
        |a| a.devcontainer
    ),
    embed!(
        ".github/workflows/tracelab.yml",
        "github/tracelab.yml.j2",
        |a| a.ci == crate::answers::Ci::Github
    ),
    embed!("aws/json/xray.json", "aws/json/xray.json.j2", |a| a
        .has(Backend::Xray)),
    embed!(".env.example", "env.example.j2", always),
    embed!(".gitignore", "gitignore.j2", always),
    embed!("README.md", "README.md.j2", always),
];
