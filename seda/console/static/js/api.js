// The public REST API with the signed-in admin's tokens, kept in memory only (never in storage
// or a URL). An expired access token is refreshed once with the refresh token.

export class ApiError extends Error {
  constructor(status, messages) {
    super(messages.join("; "));
    this.status = status;
  }
}

export class Api {
  constructor(base = "/api/v1") {
    this.base = base;
    this.tokens = null;
    this.user = null;
    this.onSignedOut = () => {};
  }

  get signedIn() {
    return this.tokens !== null;
  }

  get accessToken() {
    return this.tokens ? this.tokens.accessToken : null;
  }

  async signIn(email, password) {
    const answer = await this.request("POST", "/auth/login", { email, password }, { anonymous: true });
    if (!["ADMIN", "SUPER_ADMIN"].includes(answer.user.role)) {
      await this.request("POST", "/auth/logout", { refreshToken: answer.refreshToken }, { token: answer.accessToken });
      throw new ApiError(403, ["This console is for admins: your account is not one."]);
    }
    this.tokens = answer;
    this.user = answer.user;
  }

  async signOut() {
    if (!this.tokens) return;
    const refreshToken = this.tokens.refreshToken;
    try {
      await this.request("POST", "/auth/logout", { refreshToken });
    } finally {
      this.forget();
    }
  }

  forget() {
    this.tokens = null;
    this.user = null;
    this.onSignedOut();
  }

  get(path) { return this.request("GET", path); }
  post(path, body) { return this.request("POST", path, body); }
  patch(path, body) { return this.request("PATCH", path, body); }
  delete(path) { return this.request("DELETE", path); }

  async request(method, path, body, { anonymous = false, token = null, retried = false } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const bearer = token || (!anonymous && this.accessToken);
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    const response = await fetch(this.base + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit",
    });
    if (response.status === 401 && !anonymous && !token && !retried && this.tokens) {
      await this.refresh();
      return this.request(method, path, body, { retried: true });
    }
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      throw new ApiError(response.status, (data && data.message) || [`${response.status} ${response.statusText}`]);
    }
    return data;
  }

  async refresh() {
    try {
      const answer = await this.request(
        "POST", "/auth/refresh", { refreshToken: this.tokens.refreshToken }, { anonymous: true },
      );
      this.tokens = { ...this.tokens, ...answer };
    } catch (error) {
      this.forget();
      throw new ApiError(401, ["Your session ended: sign in again."]);
    }
  }
}
