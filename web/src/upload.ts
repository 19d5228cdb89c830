// Chunked, resumable uploads: BeginUpload, PutChunk (≤ 1 MiB each), FinishUpload.
// The upload id is remembered in localStorage under the file's kind, name, size and
// SHA-256, so choosing the same file again after a reload or a dropped connection asks
// GetUpload where to resume instead of starting over.
import { ConnectError, Code } from "@connectrpc/connect";
import { uploads } from "./api";
import { AssetKind } from "./gen/gts/v1/common_pb";
import { type Asset, UploadState } from "./gen/gts/v1/upload_pb";

const MAX_CHUNK = 1024 * 1024;

export interface UploadProgress {
  sent: number;
  total: number;
  resumed: boolean;
}

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  if (!crypto?.subtle) {
    throw new Error("this page is not a secure context (use https or localhost); files cannot be hashed");
  }
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function resumeKey(kind: AssetKind, file: File, sha: string): string {
  return `gts.upload.${kind}.${file.name}.${file.size}.${sha}`;
}

/** Uploads `file` as an asset of `kind`, reporting progress; resumes when it can. */
export async function uploadFile(
  file: File,
  kind: AssetKind,
  onProgress: (p: UploadProgress) => void,
): Promise<Asset> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const sha = await sha256Hex(bytes.buffer);
  const key = resumeKey(kind, file, sha);

  let uploadId = localStorage.getItem(key) ?? "";
  let offset = 0;
  let chunk = MAX_CHUNK;
  let resumed = false;
  if (uploadId) {
    try {
      const { upload } = await uploads.getUpload({ uploadId });
      if (upload && upload.state === UploadState.OPEN) {
        offset = Number(upload.bytesReceived);
        chunk = Math.min(MAX_CHUNK, upload.maxChunkBytes || MAX_CHUNK);
        resumed = offset > 0;
      } else {
        uploadId = "";
      }
    } catch (error) {
      if (!(error instanceof ConnectError && error.code === Code.NotFound)) throw error;
      uploadId = "";
    }
  }
  if (!uploadId) {
    const { upload } = await uploads.beginUpload({
      kind,
      filename: file.name,
      sizeBytes: BigInt(file.size),
      sha256: sha,
    });
    if (!upload) throw new Error("BeginUpload returned no upload");
    uploadId = upload.uploadId;
    chunk = Math.min(MAX_CHUNK, upload.maxChunkBytes || MAX_CHUNK);
    localStorage.setItem(key, uploadId);
  }

  onProgress({ sent: offset, total: file.size, resumed });
  while (offset < file.size) {
    const data = bytes.subarray(offset, Math.min(offset + chunk, file.size));
    const { bytesReceived } = await uploads.putChunk({ uploadId, offset: BigInt(offset), data });
    offset = Number(bytesReceived);
    onProgress({ sent: offset, total: file.size, resumed });
  }
  const { asset } = await uploads.finishUpload({ uploadId });
  localStorage.removeItem(key);
  if (!asset) throw new Error("FinishUpload returned no asset");
  return asset;
}

/** Why an upload failed, in words a guitarist can act on; `retryable` when sending the
 * same file again can succeed (a dropped connection), false when the file itself was refused. */
export function uploadFailure(error: unknown, kind: AssetKind): { message: string; retryable: boolean } {
  const what = kind === AssetKind.NAM_MODEL ? "model" : kind === AssetKind.IMPULSE_RESPONSE ? "impulse response" : "DI";
  if (error instanceof ConnectError) {
    const raw = (error.rawMessage || "").replace(/;? ?the upload was discarded.*$/i, "").trim();
    if (error.code === Code.InvalidArgument || error.code === Code.FailedPrecondition) {
      if (/is silent/i.test(raw)) {
        return { message: "This DI is silent: there is no guitar signal in it. Check that the input was armed, then record or export it again.", retryable: false };
      }
      if (/GTS can read|no audio track|does not decode|damaged|header/i.test(raw) && kind !== AssetKind.NAM_MODEL) {
        return { message: `This file isn't audio we can read. Export it as WAV, FLAC, MP3, AIFF or OGG.`, retryable: false };
      }
      if (kind === AssetKind.NAM_MODEL && /json|not a|weight|architecture|config/i.test(raw)) {
        return { message: `This file isn't a NAM model we can use (${raw}). Export the .nam file from Neural Amp Modeler again.`, retryable: false };
      }
      const sentence = raw ? raw.charAt(0).toUpperCase() + raw.slice(1) : `This ${what} was refused`;
      return { message: `${sentence.replace(/\.$/, "")}.`, retryable: false };
    }
    if (error.code === Code.ResourceExhausted) {
      return { message: `${raw || "You have used your upload space"}. Delete files you no longer need, or wait a moment and try again.`, retryable: false };
    }
    if (error.code === Code.Unauthenticated) {
      return { message: "Your session ended; sign in again, then upload the file again.", retryable: false };
    }
  }
  return { message: "The connection dropped during the upload. Choose the same file and press Upload: it continues where it stopped.", retryable: true };
}
