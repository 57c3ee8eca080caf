export * from './users';
export * from './sessions';
export * from './audit-events';
export * from './login-throttle';
