//! gRPC handlers. Each RPC not implemented yet answers UNIMPLEMENTED (the generated
//! default); the shootout issue fills them in.

use gts_common::infra::Infra;
use gts_proto::v1::{
    asset_service_server::AssetService, library_service_server::LibraryService,
    shootout_internal_server::ShootoutInternal, shootout_service_server::ShootoutService,
    upload_service_server::UploadService,
};

macro_rules! handler {
    ($(#[$doc:meta])* $name:ident: $trait:ident) => {
        $(#[$doc])*
        pub struct $name {
            _infra: Infra,
        }

        impl $name {
            pub fn new(infra: Infra) -> Self {
                Self { _infra: infra }
            }
        }

        #[tonic::async_trait]
        impl $trait for $name {}
    };
}

handler!(
    /// `gts.v1.ShootoutService`: shootouts and their signal chains.
    ShootoutApi: ShootoutService
);
handler!(
    /// `gts.v1.UploadService`: chunked, resumable uploads.
    UploadApi: UploadService
);
handler!(
    /// `gts.v1.AssetService`: DI tracks and uploaded models and IRs.
    AssetApi: AssetService
);
handler!(
    /// `gts.v1.LibraryService`: the TONE3000 library, with the user's token.
    LibraryApi: LibraryService
);
handler!(
    /// `gts.v1.ShootoutInternal`: render specifications for the worker.
    ShootoutInternalApi: ShootoutInternal
);
