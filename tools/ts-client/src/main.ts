// What a front-end team writes first, against the types generated from the gateway's document
// (src/api.d.ts, written by the test): every path, parameter and body checked by the compiler.
import createClient from "openapi-fetch";
import type { components, paths } from "./api.js";

type Problem = components["schemas"]["Problem"];

declare const process: { argv: string[] };

const [baseUrl, token, loanId] = process.argv.slice(2);
const api = createClient<paths>({
  baseUrl: baseUrl ?? "http://127.0.0.1:8000",
  headers: { Authorization: `Bearer ${token ?? ""}` },
});

async function loanStatus(id: string): Promise<string> {
  const { data, error } = await api.GET("/api/v1/loans/{loan_id}", {
    params: { path: { loan_id: id } },
  });
  if (error !== undefined) {
    const problem: Problem = error;
    return `${problem.status} ${problem.title}`;
  }
  return `${data.loan_id} ${data.status}`;
}

async function openCases(): Promise<number> {
  const { data, error } = await api.GET("/api/v1/cases", { params: { query: { limit: 5 } } });
  if (error !== undefined) {
    throw new Error(error.detail ?? error.title);
  }
  return data.items.length;
}

console.log(
  JSON.stringify({
    loan: await loanStatus(loanId ?? "L-0001"),
    missing: await loanStatus("L-NOBODY"),
    cases: await openCases(),
  }),
);
