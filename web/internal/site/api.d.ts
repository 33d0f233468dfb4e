// Type definitions for IPCortex.PBX.Auth as served by /api/api.js.
// Served at /api/api.d.ts; copy it into a TypeScript project beside the pages
// that load the script tag.

declare namespace IPCortex.PBX {
  /** The stable reasons a call fails, as the `code` of the rejected Error. */
  type AuthErrorCode =
    | 'auth_failed' | 'login_required' | 'forbidden' | 'network'
    | 'timeout' | 'server' | 'bad_option' | 'internal'
    | 'popup_closed' | 'popup_blocked' | 'rate_limited';

  /** Every rejection and every thrown error: an Error (a TypeError for an
   * argument of the wrong type) with a stable code. */
  interface AuthError extends Error {
    code: AuthErrorCode;
  }

  /** The vendor's callback: success, and a message saying why not. */
  type AuthCallback = (success: boolean, message: string) => void;

  interface LoginOptions {
    /** Succeed if and only if the current login is valid; all else is ignored. */
    checkonly?: boolean;
    /** Both, or neither. */
    username?: string;
    password?: string;
    /** With username and password: make no token. */
    notoken?: boolean;
    /** Never show the login overlay; tokens are neither kept nor reused
     * automatically (use tokenCB and tokens). */
    nodom?: boolean;
    /** Qualify this and every later call; see getSubID(). */
    subid?: string;
    /** The token's class: none (24 hours), refreshable (alive while used
     * daily), longLogin (weekly). */
    application?: '' | 'refreshable' | 'longLogin' | null;
    /** Tokens to try when there is no login (ignored with username and
     * password, or checkonly). */
    tokens?: string[];
    /** The same as tokens, as the vendor's own app passes it. */
    token?: string[];
    /** Bind the token to this application origin instead of the page's. */
    origin?: string;
    /** Told the live tokens, with their expiry in ms since the epoch,
     * whenever they change. */
    tokenCB?: (tokens: { [token: string]: number }) => void;
  }

  interface UserInfo {
    id: number | null;
    login: string | null;
    name: string | null;
    company: string | null;
    home: string | null;
    /** Permission name to "yes" or "company". */
    perms: { [perm: string]: 'yes' | 'company' };
  }

  interface AuthAPI {
    /** The logged-in user's id (a Number), null when logged out. */
    readonly id: number | null;
    readonly uname: string | null;
    readonly name: string | null;
    readonly company: string | null;
    /** true: each step to console.debug; a function: each step to it.
     * Never a password, token, key or session id. */
    debug?: boolean | ((msg: string) => void);

    /** Resolves with no value: read the properties afterwards. Without
     * credentials it may show the login overlay; a logout(), exit(), login
     * with credentials or setHost made meanwhile closes it, and this login
     * then rejects with 'popup_closed'. A checkonly login made meanwhile
     * rejects at once with 'login_required'. */
    login(options?: LoginOptions | null, callback?: AuthCallback): Promise<void>;
    /** login(callback) alone checks the current login (no overlay). */
    login(callback: AuthCallback, options?: LoginOptions | null): Promise<void>;
    login(username: string, password: string, insecure?: boolean, callback?: AuthCallback): Promise<void>;

    logout(callback?: AuthCallback): Promise<void>;
    /** Clean up; with {logout: true} also log out. */
    exit(options?: { logout?: boolean } | null, callback?: AuthCallback): Promise<void>;
    setCompany(company: string, callback?: AuthCallback): Promise<void>;
    /** The older name of setCompany. */
    selcompany(company: string, callback?: AuthCallback): Promise<void>;
    /** Resolves with the new phone password when getnew is true. */
    rtcReset(getnew?: boolean, callback?: AuthCallback): Promise<string | undefined>;
    /** The older name of rtcReset. */
    rtcreset(getnew?: boolean, callback?: AuthCallback): Promise<string | undefined>;

    /** This tab's random sub-ID, kept in sessionStorage; isolates the tab. */
    getSubID(): string;
    /** https://host[:port], http://host[:port] or host[:port]; throws
     * AuthError. The backend option picks the phone system (default
     * IPCortex). */
    setHost(uri: string, options?: { backend?: 'ipcortex' | 'vodia' | 'ping' } | null): void;
    /** wss://host[:port], ws://host[:port] or host[:port]; throws AuthError. */
    setWSHost(uri: string): void;
    getUserInfo(): UserInfo;
  }

  const Auth: AuthAPI;

  /** The vendor's feed error numbers: 1 internal (recovery attempted),
   * 2 logged out (the Auth properties are already cleared), 3 not ready
   * (started before a login), 91 the WebSocket could not be opened, 92 it
   * failed while running, 100 the PBX's version changed. */
  type FeedErrno = 1 | 2 | 3 | 91 | 92 | 100;

  /** A rejection of startFeed: an AuthError that also has the errno. */
  interface FeedError extends AuthError {
    errno: FeedErrno;
  }

  type FeedCallback = () => void;
  type FeedErrorCallback = (errno: FeedErrno, text: string) => void;

  interface FeedOptions {
    /** Accepted and type-checked; this module carries no phone data. */
    device?: boolean;
    deviceMin?: boolean;
    mailbox?: boolean;
    queue?: boolean;
    presence?: boolean;
    /** Keep-alive interval, 10 to 999 seconds (default 540). */
    pingtime?: number;
    /** Seconds to keep reconnecting after a drop: 0 never, null forever
     * (the default). When it gives up the feed stops itself. */
    maxWSRetryTime?: number | null;
    /** The same as the errCB argument. */
    errorCB?: FeedErrorCallback;
  }

  /** Starts the live feed; resolves once it is up, rejects once (later
   * errors reach errCB only). The callback is called each time the feed is
   * up, with no data. Works unbound: login().then(IPCortex.PBX.startFeed). */
  function startFeed(options?: FeedOptions | unknown): Promise<void>;
  function startFeed(callback?: FeedCallback, errCB?: FeedErrorCallback, options?: FeedOptions): Promise<void>;
  /** The legacy name of startFeed. */
  function startPoll(callback?: FeedCallback, errCB?: FeedErrorCallback, options?: FeedOptions): Promise<void>;
  /** Stops the feed; the login stays. */
  function stopFeed(): void;
  /** The legacy name of stopFeed. */
  function stopPoll(): void;
  /** Stops the feed's traffic until the next startFeed; the login stays. */
  function pauseFeed(): void;
  /** Does nothing; kept for pages that call it. */
  function httpStopReuse(): void;
}

/** The user's properties as a pbxauthchange event carries them. */
interface PBXAuthChangeDetail {
  id: number;
  uname: string;
  name: string;
  company: string;
}

interface WindowEventMap {
  /** After every change of IPCortex.PBX.Auth's properties, whatever made it
   * (this tab's calls, another tab's, the feed); detail is null once
   * logged out. */
  pbxauthchange: CustomEvent<PBXAuthChangeDetail | null>;
}

/** Called once when the module is ready, by pages that load /api/wrapper.whtm. */
declare function onAPILoadReady(): void;
