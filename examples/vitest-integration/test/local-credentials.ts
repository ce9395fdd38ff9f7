/** dynalite checks no signature: any credentials do (none of the developer's are used). */
export const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };
