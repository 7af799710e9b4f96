// sdk_client.mjs drives `tern mcp` with the official MCP TypeScript SDK's
// client, as an editor would: node sdk_client.mjs TERN WORKSPACE, with
// MCP_SDK the SDK's package directory. It prints each check and exits 1 on
// the first mismatch; TestTypeScriptSDKClient runs it.
import path from "node:path";
import { pathToFileURL } from "node:url";

const [tern, workspace] = process.argv.slice(2);
const sdk = process.env.MCP_SDK;
// By absolute file URL: the SDK is not installed beside this script, and
// its own imports (zod, ajv) resolve from its node_modules.
const load = (p) => import(pathToFileURL(path.join(sdk, "dist", "esm", p)).href);
const { Client } = await load("client/index.js");
const { StdioClientTransport } = await load("client/stdio.js");
const { McpError } = await load("types.js");

function check(ok, what, got) {
  if (!ok) {
    console.log(`FAIL ${what}: got ${JSON.stringify(got)}`);
    process.exit(1);
  }
  console.log(`ok ${what}`);
}
const text = (r) => (r.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join("");

const client = new Client({ name: "tern-sdk-test", version: "1" });
const transport = new StdioClientTransport({
  command: tern,
  args: ["mcp", "--sandbox", "danger-full-access", "--cd", workspace],
  env: { ...process.env },
  stderr: "inherit",
});
try {
  await client.connect(transport);
  console.log(`connected: ${JSON.stringify(client.getServerVersion())}`);

  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name).sort().join(",");
  check(names === "apply_patch,list_dir,read_file,shell", "tools/list names the four tools", names);

  const read = await client.callTool({ name: "read_file", arguments: { path: "hello.txt" } });
  check(!read.isError && text(read).includes("hello from the test"), "read_file reads a real file", read);

  let unknown;
  try {
    const r = await client.callTool({ name: "no_such_tool", arguments: {} });
    unknown = { resolved: r };
  } catch (e) {
    unknown = e;
  }
  check(unknown instanceof McpError && unknown.code === -32602, "an unknown tool raises McpError -32602",
    { name: unknown?.name, code: unknown?.code, message: unknown?.message, resolved: unknown?.resolved });
  check(unknown.message.includes('"no_such_tool"') && unknown.message.includes("read_file"),
    "its message names the tool and the known ones", unknown.message);

  const empty = await client.callTool({ name: "read_file", arguments: {} });
  check(empty.isError === true && text(empty).includes('"path"') && !text(empty).includes("<nil>"),
    "read_file {} is a tool error naming path", empty);
} finally {
  await client.close();
}
console.log("PASS");
