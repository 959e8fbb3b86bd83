/**
 * Where the store keeps its files under `<dataDir>/store`. Object keys never become path
 * components: an object's file name is the SHA-256 of its key, bucket names and upload ids are
 * checked against strict patterns first, so no request can name a file outside the data dir.
 *
 *   credentials.json                           access key pair, mode 0600
 *   objects.sqlite                             objects up to 64 KiB, record and data (see inline-objects.ts)
 *   running                                    present while a process has the store open
 *   tmp/<random>                               bodies being received; renamed once verified
 *   buckets/<bucket>/objects/<sha256 of key>   object files (see object-file.ts)
 *   buckets/<bucket>/uploads/<uploadId>/upload the multipart upload's key and headers
 *   buckets/<bucket>/uploads/<uploadId>/<part> one file per uploaded part: its record, and its data
 *                                              unless the data file contains it
 *   buckets/<bucket>/uploads/<uploadId>/data-<part size>-<random>
 *                                              parts at their place in the object (see upload-data.ts)
 */
import { join } from "node:path";
import { badRequest, notFound, type StoreError } from "./s3-error.ts";
import { sha256Hex } from "./sigv4.ts";

const bucketNamePattern = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const uploadIdPattern = /^[0-9a-f]{32}$/;

export class StoreLayout {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, "store");
  }

  get credentialsFile(): string {
    return join(this.root, "credentials.json");
  }

  get inlineDatabase(): string {
    return join(this.root, "objects.sqlite");
  }

  /** Present while a process has the store open; found at start, it means the last one crashed. */
  get runningMarker(): string {
    return join(this.root, "running");
  }

  get tmpDir(): string {
    return join(this.root, "tmp");
  }

  get bucketsDir(): string {
    return join(this.root, "buckets");
  }

  bucketDir(bucket: string): string {
    checkBucketName(bucket);
    return join(this.bucketsDir, bucket);
  }

  objectsDir(bucket: string): string {
    return join(this.bucketDir(bucket), "objects");
  }

  objectFile(bucket: string, key: string): string {
    return join(this.objectsDir(bucket), sha256Hex(key));
  }

  uploadsDir(bucket: string): string {
    return join(this.bucketDir(bucket), "uploads");
  }

  uploadDir(bucket: string, uploadId: string): string {
    if (!uploadIdPattern.test(uploadId)) throw noSuchUploadId(uploadId);
    return join(this.uploadsDir(bucket), uploadId);
  }

  uploadFile(bucket: string, uploadId: string): string {
    return join(this.uploadDir(bucket, uploadId), "upload");
  }

  /** `name` is `data-<part size>-<random>`, made by upload-data.ts. */
  uploadDataFile(bucket: string, uploadId: string, name: string): string {
    return join(this.uploadDir(bucket, uploadId), name);
  }

  partFile(bucket: string, uploadId: string, partNumber: number): string {
    return join(this.uploadDir(bucket, uploadId), String(partNumber).padStart(5, "0"));
  }
}

export function isValidBucketName(name: string): boolean {
  return bucketNamePattern.test(name) && !name.includes("..");
}

export function checkBucketName(name: string): void {
  if (!isValidBucketName(name)) {
    throw badRequest("InvalidBucketName", `The specified bucket is not valid: ${JSON.stringify(name)} (3-63 of a-z 0-9 . -)`);
  }
}

/** Maximum length of an object key in S3, in UTF-8 bytes. */
export const maxKeyBytes = 1024;

/** Characters that XML 1.0 cannot carry, not even as character references. */
const nonXmlCharacter = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

/**
 * Checks the key of a new object: at most 1024 bytes, and no character that the XML replies
 * (listings, CreateMultipartUpload) could not carry, since such a key could never be listed.
 */
export function checkNewKey(key: string): void {
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > maxKeyBytes) throw badRequest("KeyTooLongError", `Your key is too long: ${bytes} bytes, at most ${maxKeyBytes}`);

  const character = nonXmlCharacter.exec(key)?.[0];
  if (character !== undefined) {
    const codePoint = `U+${character.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
    throw badRequest("InvalidArgument", `the key contains ${codePoint}, which XML replies cannot carry; use a key without control characters`);
  }
}

export function isValidUploadId(uploadId: string): boolean {
  return uploadIdPattern.test(uploadId);
}

function noSuchUploadId(uploadId: string): StoreError {
  return notFound("NoSuchUpload", `The specified upload does not exist: ${JSON.stringify(uploadId)}`);
}
