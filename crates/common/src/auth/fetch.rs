//! Fetching the access-JWT public keys from auth (`AuthInternal.GetPublicKeys`) at
//! start-up, for processes not given `GTS_JWT_PUBLIC_KEYS`.

use std::time::Duration;

use gts_proto::v1::{GetPublicKeysRequest, JwtAlgorithm, auth_internal_client::AuthInternalClient};
use tonic::transport::Endpoint;

use super::{keys::PublicKeyEntry, service::ServiceCredential};

/// Asks auth for its keys, retrying until `timeout` (auth may be starting too).
pub async fn public_keys(
    auth_url: &str,
    credential: Option<ServiceCredential>,
    timeout: Duration,
) -> Result<Vec<PublicKeyEntry>, String> {
    let endpoint = Endpoint::from_shared(auth_url.to_owned())
        .map_err(|e| format!("GTS_AUTH_URL {auth_url:?} is invalid: {e}"))?
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5));
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match fetch_once(&endpoint, credential.as_ref()).await {
            Ok(keys) => return Ok(keys),
            Err(error) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(%error, "cannot fetch the JWT public keys from auth yet; retrying");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(error) => {
                return Err(format!(
                    "cannot fetch the JWT public keys from auth at {auth_url}: {error} \
                     (set GTS_JWT_PUBLIC_KEYS to skip the fetch)"
                ));
            }
        }
    }
}

async fn fetch_once(
    endpoint: &Endpoint,
    credential: Option<&ServiceCredential>,
) -> Result<Vec<PublicKeyEntry>, String> {
    let channel = endpoint.connect().await.map_err(|e| e.to_string())?;
    let mut request = tonic::Request::new(GetPublicKeysRequest {});
    if let Some(credential) = credential {
        credential.attach(&mut request).map_err(|e| e.to_string())?;
    }
    let response = AuthInternalClient::new(channel)
        .get_public_keys(request)
        .await
        .map_err(|s| format!("{}: {}", s.code(), s.message()))?
        .into_inner();
    let keys: Vec<PublicKeyEntry> = response
        .keys
        .into_iter()
        .filter(|k| k.algorithm == JwtAlgorithm::Eddsa as i32)
        .map(|k| PublicKeyEntry::from_spki_der(&k.key_id, k.public_key_der))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    if keys.is_empty() {
        return Err("auth returned no EdDSA key".to_owned());
    }
    Ok(keys)
}
