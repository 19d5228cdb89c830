//! gRPC handlers, one module per service.

mod assets;
mod internal;
mod library;
mod shootouts;
mod uploads;

pub use assets::AssetApi;
pub use internal::ShootoutInternalApi;
pub use library::LibraryApi;
pub use shootouts::ShootoutApi;
pub use uploads::UploadApi;
