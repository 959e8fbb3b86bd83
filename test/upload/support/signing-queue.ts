/**
 * A stand-in for the queue's artifact calls that signs with the project's S3Signer against a real
 * S3 endpoint (Ceph RGW), for testing the uploader apart from `artifact serve`. It keeps the
 * queue's idempotency: the same key reuses its multipart upload, and a present key gets no requests.
 */
import type { CreateArtifactRequest, CreateArtifactResponse, TaskStatusResponse } from "../../../src/client/types.ts";
import type { ArtifactQueue } from "../../../src/upload/upload.ts";
import { S3Signer } from "../../../src/signer/signer.ts";
import { parseInitiateMultipartUploadResult } from "../../../src/signer/xml.ts";
import type { ObjectHeaders, RequestDescriptor } from "../../../src/signer/types.ts";
import type { S3Target } from "../../support/rgw.ts";

export class SigningQueue implements ArtifactQueue {
  readonly signer: S3Signer;
  /** How many of the next createArtifact calls sign their PUTs 20 minutes in the past, which storage rejects. */
  staleCreateCalls = 0;
  private clockOffsetMs = 0;
  initiatedUploads = 0;
  createCalls = 0;
  private readonly uploads = new Map<string, string>();
  private readonly present = new Set<string>();

  constructor(target: S3Target, bucket: string) {
    this.signer = new S3Signer(
      { endpoint: target.endpoint, region: target.region, bucket, keyPrefix: "", accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey, addressing: "path" },
      () => new Date(Date.now() + this.clockOffsetMs),
    );
  }

  async taskStatus(taskId: string): Promise<TaskStatusResponse> {
    const expires = new Date(Date.now() + 86_400_000).toISOString();
    return { status: { taskId, taskQueueId: "test/queue", state: "running", expires, deadline: expires, runs: [] } };
  }

  async createArtifact(taskId: string, runId: number, name: string, body: CreateArtifactRequest): Promise<CreateArtifactResponse> {
    this.createCalls++;
    const key = this.signer.objectKey(taskId, runId, name);
    if (this.present.has(key)) return { storageType: "blob", expires: body.expires, requests: [] };

    const headers: ObjectHeaders = {
      contentType: body.contentType,
      contentEncoding: body.contentEncoding,
      metadata: { ...body, taskId, runId, name },
    };
    const uploadId = body.parts ? (this.uploads.get(key) ?? (await this.initiate(key, headers))) : undefined;

    this.clockOffsetMs = this.staleCreateCalls-- > 0 ? -20 * 60_000 : 0;
    const requests = body.parts
      ? body.parts.map((part, index) => this.signer.signUploadPart(key, uploadId!, index + 1, part))
      : [this.signer.signPutObject(key, headers)];
    this.clockOffsetMs = 0;
    return { storageType: "blob", expires: body.expires, requests };
  }

  async completeArtifact(taskId: string, runId: number, name: string, body: { etags: string[] }): Promise<void> {
    const key = this.signer.objectKey(taskId, runId, name);
    const uploadId = this.uploads.get(key);
    if (uploadId) {
      const response = await send(this.signer.signCompleteMultipartUpload(key, uploadId, body.etags));
      const text = await response.text();
      if (response.status !== 200 || text.includes("<Error>")) throw new Error(`CompleteMultipartUpload failed: ${response.status} ${text}`);
    }
    this.present.add(key);
  }

  /** Returns the stored object's bytes as sent by storage, without decoding. */
  async getObject(taskId: string, runId: number, name: string): Promise<Response> {
    return send(this.signer.signGetObject(this.signer.objectKey(taskId, runId, name)));
  }

  async deleteObject(taskId: string, runId: number, name: string): Promise<void> {
    await (await send(this.signer.signDeleteObject(this.signer.objectKey(taskId, runId, name)))).arrayBuffer();
  }

  private async initiate(key: string, headers: ObjectHeaders): Promise<string> {
    const response = await send(this.signer.signCreateMultipartUpload(key, headers));
    const { uploadId } = parseInitiateMultipartUploadResult(await response.text(), response.status);
    this.initiatedUploads++;
    this.uploads.set(key, uploadId);
    return uploadId;
  }
}

function send(request: RequestDescriptor): Promise<Response> {
  return fetch(request.url, { method: request.method, headers: request.headers, body: request.body, decompress: false, redirect: "manual" });
}
