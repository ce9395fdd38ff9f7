// An SQS batch handler that reports partial batch failures (ReportBatchItemFailures): only the
// records that failed are returned, so SQS retries those and deletes the rest.
export const handler = async (event) => {
  const batchItemFailures = [];
  for (const record of event.Records) {
    try {
      const message = JSON.parse(record.body);
      if (typeof message.amount !== 'number' || message.amount < 0) throw new Error('bad amount');
    } catch {
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};
