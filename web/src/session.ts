// The signed-in session: kept in memory and in sessionStorage (so a reload keeps it, and
// it dies with the tab). Never in localStorage: a refresh token must not outlive the tab.
import type { Session, User } from "./gen/gts/v1/auth_pb";
import { timestampMs } from "./util";

export interface StoredSession {
  accessToken: string;
  accessExpiresAt: number; // ms since epoch
  refreshToken: string;
  refreshExpiresAt: number;
  user?: { id: string; username: string };
}

const KEY = "gts.session";
let current: StoredSession | null = load();

function load(): StoredSession | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as StoredSession) : null;
  } catch {
    return null;
  }
}

export function getSession(): StoredSession | null {
  return current;
}

export function setSession(session: Session, user?: User): StoredSession {
  const next: StoredSession = {
    accessToken: session.accessToken,
    accessExpiresAt: timestampMs(session.accessTokenExpiresAt),
    refreshToken: session.refreshToken,
    refreshExpiresAt: timestampMs(session.refreshTokenExpiresAt),
    user: user ? { id: user.id, username: user.username } : current?.user,
  };
  current = next;
  sessionStorage.setItem(KEY, JSON.stringify(next));
  return next;
}

export function clearSession(): void {
  current = null;
  sessionStorage.removeItem(KEY);
}
