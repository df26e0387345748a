// Deleting what a refused category left behind: the first-party cookies and web storage its vendors declare,
// by exact name or `*` pattern. A cookie is only deleted by the same name, domain and path it was set with, and
// document.cookie shows none of them, so each match is expired on this host, every parent domain and every
// path from this page up to the root (the cookies this page can see).

function matcher(name) {
  const re = new RegExp("^" + name.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*") + "$");
  return (candidate) => !candidate.startsWith("cmp_") && re.test(candidate); // never our own memory
}

function expire(name) {
  const labels = location.hostname.split(".");
  const domains = [""];
  for (let i = 0; i < labels.length - 1; i++) domains.push("; Domain=." + labels.slice(i).join("."));
  const paths = ["/"];
  const parts = location.pathname.split("/");
  for (let i = 2; i <= parts.length; i++) {
    const path = parts.slice(0, i).join("/");
    if (path) paths.push(path, path + "/");
  }
  for (const domain of domains)
    for (const path of paths) document.cookie = `${name}=; Max-Age=0; Path=${path}${domain}`;
}

function storage(kind) {
  try {
    return window[kind];
  } catch (e) {} // disabled storage throws on access
}

/** Delete the declared storage of every refused, optional category. */
export function cleanUp(categories, choices) {
  const cookies = document.cookie.split(/;\s*/).map((pair) => pair.split("=")[0]);
  for (const category of categories) {
    if (category.necessary || choices[category.key]) continue;
    for (const vendor of category.vendors)
      for (const item of vendor.cookies) {
        const matches = matcher(item.name);
        if (item.type == "cookie") {
          if (item.party == "first") cookies.filter(matches).forEach(expire);
        } else if (item.type == "local_storage" || item.type == "session_storage") {
          const store = storage(item.type == "local_storage" ? "localStorage" : "sessionStorage");
          if (store) Object.keys(store).filter(matches).forEach((key) => store.removeItem(key));
        } else if (item.type == "indexed_db" && window.indexedDB) {
          const drop = (name) => matches(name) && indexedDB.deleteDatabase(name);
          if (!item.pattern) drop(item.name);
          else if (indexedDB.databases) indexedDB.databases().then((dbs) => dbs.forEach((d) => drop(d.name)));
        }
      }
  }
}
