// Errors the control plane's services throw for the edge (server actions, routes) to map to a message: the
// message is written for the user, and says what to change.

/** The request contradicts what is already there (a name taken, a node already in a group). */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}
