// An SQS batch handler with ReportBatchItemFailures: it returns only the messages that failed,
// so SQS redelivers those and deletes the others.

/**
 * @param {import('aws-lambda').SQSEvent} event
 * @returns {Promise<import('aws-lambda').SQSBatchResponse>}
 */
export const handler = async (event) => {
  const batchItemFailures = [];
  let settled = 0;
  for (const record of event.Records) {
    try {
      settle(JSON.parse(record.body));
      settled += 1;
    } catch (error) {
      console.log(`payment ${record.messageId} failed: ${error.message}`);
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  console.log(`settled ${settled} of ${event.Records.length}`);
  return { batchItemFailures };
};

function settle(payment) {
  if (!Number.isInteger(payment.cents) || payment.cents <= 0)
    throw new Error('cents must be a positive integer');
  if (!/^[A-Z]{3}$/.test(payment.currency ?? '')) throw new Error('currency must be an ISO 4217 code');
}
