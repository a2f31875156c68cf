// Steps of the link dialog shared by the WebDriver tests.

/** From a fresh data directory: welcome → overview → the link dialog. */
export async function openLinkDialog(session) {
  await session.click('[data-testid="get-started"]');
  await session.click('[data-testid="link-bank"]');
  await session.waitFor('[data-testid="bank-search-input"]', 30_000);
}

export async function pickBank(session, query, bankId) {
  await session.type('[data-testid="bank-search-input"]', query);
  await session.click(`[data-testid="bank-result"][data-bank-id="${bankId}"]`);
}

export async function signIn(session, login = "demo", pin = "demo") {
  await session.type('[data-testid="credential-field"][data-label="Onlinebanking-ID"]', login);
  await session.type('[data-testid="credential-field"][data-label="PIN"]', pin);
  await session.click('[data-testid="credentials-submit"]');
}

export async function chooseProcedure(session, id) {
  await session.click(`[data-testid="procedure-option"][data-procedure-id="${id}"]`);
  await session.click('[data-testid="procedure-submit"]');
}

export async function enterTan(session, tan = "123456") {
  await session.type('[data-testid="tan-form"] input', tan);
  await session.click('[data-testid="tan-submit"]');
}
