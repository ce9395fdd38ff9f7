// Barrel of this concern; add its public exports here.
export {};
