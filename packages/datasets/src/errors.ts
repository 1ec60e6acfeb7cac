import { AblateError } from '@ablate/core';

/** A dataset file is missing, unreadable or malformed. `file` names it. */
export class DatasetError extends AblateError {
  constructor(readonly file: string, message: string, hint?: string) {
    super('ABLATE_DATASET', `${file}: ${message}`, { field: file, hint });
  }
}
