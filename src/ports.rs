//! The ports tracelab and a workspace's services use, declared once: the
//! backend's port must be none of them, `listen` binds its own, and the
//! generated Gitpod and Dev Container files forward them.

/// `tracelab listen`'s OTLP/HTTP receiver (and `run --listen`'s), the
/// standard OTLP/HTTP port Jaeger and collectors use too.
pub const LISTEN_OTLP: u16 = 4318;
/// `tracelab listen`'s web view.
pub const LISTEN_WEB: u16 = 4320;

/// Ports the backend may not take: (port, who has it, only when this
/// backend is in use).
pub const RESERVED: &[(u16, &str, Option<crate::backend::Backend>)] = &[
    (3000, "the frontend (FRONTEND_URL)", None),
    (4317, "OTLP over gRPC (Jaeger, a collector)", None),
    (
        LISTEN_OTLP,
        "tracelab listen's OTLP receiver (and Jaeger's)",
        None,
    ),
    (LISTEN_WEB, "tracelab listen's web view", None),
    (16686, "the Jaeger UI", Some(crate::backend::Backend::Local)),
    (
        2000,
        "the xray-daemon service",
        Some(crate::backend::Backend::Xray),
    ),
];
