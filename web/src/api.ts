// The grpc-web clients. connect-web's grpc-web transport talks to the gateway on the same
// origin the console is served from; an interceptor adds the access token and refreshes
// it through AuthService.Refresh shortly before it expires (one refresh at a time).
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { AuthService } from "./gen/gts/v1/auth_pb";
import { JobService } from "./gen/gts/v1/job_pb";
import { LibraryService } from "./gen/gts/v1/library_pb";
import { ShootoutService } from "./gen/gts/v1/shootout_pb";
import { AssetService, UploadService } from "./gen/gts/v1/upload_pb";
import { clearSession, getSession, setSession } from "./session";

/** Calls that need no access token (an expired one must not block them). */
const ANONYMOUS = new Set(["StartLogin", "CompleteLogin", "Refresh"]);
/** Refresh this long before the access token expires. */
const REFRESH_MARGIN_MS = 30_000;

const baseUrl = window.location.origin;
const plainTransport = createGrpcWebTransport({ baseUrl });
const plainAuth = createClient(AuthService, plainTransport);

let refreshing: Promise<string | null> | null = null;

/** A fresh access token, refreshing it first when it is (nearly) expired. */
export async function accessToken(force = false): Promise<string | null> {
  const session = getSession();
  if (!session) return null;
  if (!force && session.accessExpiresAt - Date.now() > REFRESH_MARGIN_MS) {
    return session.accessToken;
  }
  refreshing ??= (async () => {
    try {
      const response = await plainAuth.refresh({ refreshToken: session.refreshToken });
      if (!response.session) throw new Error("Refresh returned no session");
      return setSession(response.session).accessToken;
    } catch (error) {
      // The refresh token is spent or revoked: the user has to sign in again.
      clearSession();
      window.dispatchEvent(new CustomEvent("gts:signed-out"));
      throw error;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

const bearer: Interceptor = (next) => async (request) => {
  if (!ANONYMOUS.has(request.method.name)) {
    const token = await accessToken();
    if (token) request.header.set("authorization", `Bearer ${token}`);
    try {
      return await next(request);
    } catch (error) {
      // An access token revoked or expired in flight: refresh once and retry a unary call.
      if (
        token &&
        request.stream === false &&
        error instanceof ConnectError &&
        error.code === Code.Unauthenticated
      ) {
        const fresh = await accessToken(true);
        if (fresh) {
          request.header.set("authorization", `Bearer ${fresh}`);
          return await next(request);
        }
      }
      throw error;
    }
  }
  return next(request);
};

const transport = createGrpcWebTransport({ baseUrl, interceptors: [bearer] });

export const auth = createClient(AuthService, transport);
export const library = createClient(LibraryService, transport);
export const uploads = createClient(UploadService, transport);
export const assets = createClient(AssetService, transport);
export const shootouts = createClient(ShootoutService, transport);
export const jobs = createClient(JobService, transport);

/** JobService without a session: the share-link RPCs a visitor calls with the token alone. */
export const publicJobs = createClient(JobService, plainTransport);
