import type { Role } from "./bindings/Role";

/** Every role, in the SOP's order; a `Record` so a new role in the bindings fails the type check here. */
const ROLE_ORDER: Record<Role, number> = { reporter: 0, editor: 1, official: 2, publisher: 3, admin: 4 };

export const ALL_ROLES: Role[] = (Object.keys(ROLE_ORDER) as Role[]).sort((a, b) => ROLE_ORDER[a] - ROLE_ORDER[b]);
