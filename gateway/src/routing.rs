//! Routing by gRPC service name.
//!
//! Contract: a request path is `/<package>.<Service>/<Method>`. Only the public services
//! in [`gts_proto::PUBLIC_SERVICES`] are routed, each to the backend that hosts it.
//! Internal services are refused with PERMISSION_DENIED whatever the caller presents;
//! anything else is UNIMPLEMENTED. The decision uses the name alone, before any byte
//! reaches a backend.

/// A backend service process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Auth,
    Shootout,
    Worker,
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Forward to this backend.
    Forward(Backend),
    /// The service exists but browsers may not call it.
    Internal(String),
    /// No such public service.
    Unknown(String),
}

/// The gRPC service named by a request path, if the path has the gRPC shape.
pub fn service_name(path: &str) -> Option<&str> {
    let rest = path.strip_prefix('/')?;
    let (service, method) = rest.split_once('/')?;
    (!service.is_empty() && !method.is_empty() && !method.contains('/')).then_some(service)
}

/// Decides where a request path goes.
pub fn route(path: &str) -> Route {
    let Some(service) = service_name(path) else {
        return Route::Unknown(path.to_owned());
    };
    if gts_proto::INTERNAL_SERVICES.contains(&service) {
        return Route::Internal(service.to_owned());
    }
    let backend = match service {
        "gts.v1.AuthService" => Backend::Auth,
        "gts.v1.ShootoutService"
        | "gts.v1.UploadService"
        | "gts.v1.AssetService"
        | "gts.v1.LibraryService" => Backend::Shootout,
        "gts.v1.JobService" => Backend::Worker,
        other => return Route::Unknown(other.to_owned()),
    };
    Route::Forward(backend)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_public_service_has_a_backend() {
        for service in gts_proto::PUBLIC_SERVICES {
            let path = format!("/{service}/AnyMethod");
            assert!(
                matches!(route(&path), Route::Forward(_)),
                "{service} is public but not routed"
            );
        }
    }

    #[test]
    fn internal_services_are_refused() {
        for service in gts_proto::INTERNAL_SERVICES {
            let path = format!("/{service}/AnyMethod");
            assert_eq!(route(&path), Route::Internal((*service).to_owned()));
        }
    }

    #[test]
    fn malformed_and_unknown_paths_are_not_routed() {
        assert!(matches!(route("/"), Route::Unknown(_)));
        assert!(matches!(route("/gts.v1.AuthService"), Route::Unknown(_)));
        assert!(matches!(
            route("/gts.v1.AuthService/A/B"),
            Route::Unknown(_)
        ));
        assert!(matches!(route("/evil.Service/Call"), Route::Unknown(_)));
        assert!(matches!(
            route("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"),
            Route::Unknown(_)
        ));
    }
}
