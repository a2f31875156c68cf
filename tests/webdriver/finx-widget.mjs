// Plays the system browser for the Demo Bank's finX widget (crates/sandbox/README.md, "The widget"):
// fetch with redirects off, one form per page, until the widget sends a `Location: kontor://…`.
const BANK = "9d6a1c8e-5f0b-4e7a-9c1d-28000500a001"; // Demo Bank (TAN-Auswahl)

/** Returns the kontor:// callback URL the widget redirects to after bank, login, TAN and consent. */
export async function playFinxWidget(widgetUrl, { login = "demo", pin = "demo", tan = "123456" } = {}) {
  const start = new URL(widgetUrl);
  const token = start.searchParams.get("token");
  if (!token) throw new Error(`no token in the widget URL ${widgetUrl}`);
  let page = widgetUrl;
  for (let step = 0; step < 10; step++) {
    const res = await fetch(page, { redirect: "manual", signal: AbortSignal.timeout(15_000) });
    const html = await res.text();
    if (res.status !== 200) throw new Error(`GET ${page}: ${res.status} ${html.slice(0, 200)}`);
    const form = new URLSearchParams({ token });
    let action;
    if (html.includes('action="/finx/widget/bank"')) {
      action = "/finx/widget/bank";
      form.set("provider_id", BANK);
    } else if (html.includes('action="/finx/widget/login"')) {
      action = "/finx/widget/login";
      form.set("login_id", login);
      form.set("password", pin);
    } else if (html.includes('action="/finx/widget/tan"')) {
      action = "/finx/widget/tan";
      form.set("tan", tan);
    } else if (html.includes('action="/finx/widget/consent"')) {
      action = "/finx/widget/consent";
      const ibans = [...html.matchAll(/name="account" value="([A-Z0-9]+)"/g)].map((m) => m[1]);
      if (ibans.length === 0) throw new Error("the consent page lists no account");
      for (const iban of ibans) form.append("account", iban);
    } else {
      throw new Error(`unknown widget page: ${html.slice(0, 300)}`);
    }
    const post = await fetch(new URL(action, start), {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
      signal: AbortSignal.timeout(15_000),
    });
    const location = post.headers.get("location");
    if (post.status !== 303 || !location) {
      throw new Error(`POST ${action}: ${post.status} ${(await post.text()).slice(0, 300)}`);
    }
    if (location.startsWith("kontor://")) return location;
    page = new URL(location, start).toString();
  }
  throw new Error("the widget never sent the user back to Kontor");
}
