export * from './users';
export * from './sessions';
export * from './audit-events';
export * from './login-throttle';
export * from './settings';
export * from './sources';
export * from './jobs';
export * from './snapshots';
