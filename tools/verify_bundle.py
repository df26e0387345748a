#!/usr/bin/env python3
"""Check an audit bundle of a consent log offline, trusting nothing but the service's published keys.

Needs Python 3.11+ and the `cryptography` package; nothing from the consent service itself. Usage:

    verify_bundle.py BUNDLE.zip [--keys consent-keys.json]

consent-keys.json is the service's /.well-known/consent-keys.json, fetched by you. Without --keys the keys inside
the bundle are used, and the key that signed is printed for you to compare with the published one.

What it checks, naming each break by its log position (or file):
- every file against the SHA-256 the manifest lists, and no file missing or added;
- every record against its record hash, SHA-256(0x00 || canonical record), and every position of the run present,
  once, in order (records moved between positions are told apart from altered ones);
- the run's Merkle tree: rebuilt from the listed record hashes and the range proof, it must give the root of the
  bundle's anchor checkpoint, and at each checkpoint signed inside the run, that checkpoint's root (which tells
  where in the run a break lies);
- every checkpoint's signature (a C2SP signed note, Ed25519) and that it belongs to the bundle's log;
- every published version against its name (its SHA-256), and that every record's version is in the bundle;
- every record's personal data against the salted digest the record holds;
- the manifest's counts.
Exit status: 0 when everything checked out, 1 otherwise. The formats are in docs/auditors.md.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import itertools
import json
import queue
import sys
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "consent-audit-bundle/1"
CHUNK = 1 << 20


# --- Merkle trees (RFC 6962) -------------------------------------------------------------------------------------


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(count: int) -> int:
    """Where RFC 6962 splits a tree of ``count`` leaves: the largest power of two below it."""
    return 1 << ((count - 1).bit_length() - 1)


def frontier_root(frontier: list) -> bytes:
    top = frontier[-1][1]
    for _, left in reversed(frontier[:-1]):
        top = node(left, top)
    return top


def root_with_right(frontier: list, end: int, size: int, right: list[bytes]) -> bytes | None:
    """The root of the tree of ``size`` leaves from the frontier of its first ``end`` and the subtrees after them."""
    blocks, first = {}, 0
    for count, hashed in frontier:
        blocks[(first, count)] = hashed
        first += count
    pending = iter(right)

    def rebuild(first: int, count: int) -> bytes | None:
        if (first, count) in blocks:
            return blocks[(first, count)]
        if first >= end:
            return next(pending, None)
        if count == 1:
            return None
        half = split(count)
        left, right_node = rebuild(first, half), rebuild(first + half, count - half)
        return None if left is None or right_node is None else node(left, right_node)

    built = rebuild(0, size)
    return None if next(pending, None) is not None else built


# --- keys and checkpoints ----------------------------------------------------------------------------------------


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Key:
    kid: str
    name: str
    raw: bytes
    note_key: str


def read_keys(jwks: dict) -> list[Key]:
    keys = []
    for jwk in jwks["keys"]:
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": jwk["x"]}, separators=(",", ":"))
        kid = base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()
        if kid != jwk.get("kid"):
            raise ValueError(f"key {jwk.get('kid')!r}: its kid is not its RFC 7638 thumbprint")
        raw = b64url_decode(jwk["x"])
        name, _, blob = jwk["note_key"].split("+", 2)
        if base64.b64decode(blob) != b"\x01" + raw:
            raise ValueError(f"key {kid}: note_key and x differ")
        keys.append(Key(kid, name, raw, jwk["note_key"]))
    return keys


def note_id(key: Key) -> bytes:
    return hashlib.sha256(key.name.encode() + b"\n\x01" + key.raw).digest()[:4]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    signer: Key | None  # the key whose signature verified, if any


def read_checkpoint(note: str, keys: list[Key]) -> Checkpoint:
    """A C2SP signed note holding a tlog checkpoint. Raises ValueError if it is not one."""
    body, separator, signatures = note.partition("\n\n")
    if not separator:
        raise ValueError("no blank line before the signatures")
    body += "\n"
    lines = body.splitlines()
    if len(lines) < 3 or not lines[1].isdigit():
        raise ValueError("not a checkpoint (origin, size, root hash)")
    signer = None
    for line in signatures.splitlines():
        name, _, blob = line.removeprefix("\u2014 ").rpartition(" ")
        try:
            signature = base64.b64decode(blob, validate=True)
        except binascii.Error:
            continue
        for key in keys:
            if key.name == name and note_id(key) == signature[:4]:
                try:
                    Ed25519PublicKey.from_public_bytes(key.raw).verify(signature[4:], body.encode())
                    signer = key
                except (InvalidSignature, ValueError):
                    pass
    try:
        root = base64.b64decode(lines[2], validate=True)
    except binascii.Error:
        raise ValueError("the root hash is not base64") from None
    return Checkpoint(lines[0], int(lines[1]), root, signer)


# --- the check ---------------------------------------------------------------------------------------------------


@dataclass
class Findings:
    breaks: list[tuple[int | None, str, str]] = field(default_factory=list)  # (position, kind, message)
    notes: list[str] = field(default_factory=list)

    def add(self, position: int | None, kind: str, message: str) -> None:
        self.breaks.append((position, kind, message))


def blocks_of(archive: zipfile.ZipFile, name: str, digest) -> object:
    """The lines of a member (bytes, without their newline), a list per block of about a megabyte read; ``digest``
    sees every byte. Lists, not lines one by one: the loop over a million lines is where the time goes. A thread
    reads ahead: inflating and hashing a block let go of the GIL, so they run while the caller checks lines."""
    blocks: queue.Queue = queue.Queue(maxsize=4)
    stop = threading.Event()  # the caller is gone (it stopped early): the reader must not wait for it forever

    def put(item) -> None:
        while not stop.is_set():
            try:
                return blocks.put(item, timeout=0.1)
            except queue.Full:
                continue

    def read() -> None:
        try:
            with archive.open(name) as member:
                while (block := member.read(CHUNK)) and not stop.is_set():
                    digest.update(block)
                    put(block)
            put(b"")
        except BaseException as error:  # handed over, raised in the caller's thread
            put(error)

    threading.Thread(target=read, name=f"read {name}", daemon=True).start()
    try:
        carry = b""
        while block := blocks.get():
            if isinstance(block, BaseException):
                raise block
            lines = (carry + block).split(b"\n")
            carry = lines.pop()
            yield lines
        if carry:
            yield [carry]
    finally:
        stop.set()


def lines_of(archive: zipfile.ZipFile, name: str, digest) -> object:
    for lines in blocks_of(archive, name, digest):
        yield from lines


class BundleCheck:
    def __init__(self, archive: zipfile.ZipFile, keys: list[Key] | None):
        self.archive = archive
        self.found = Findings()
        self.given_keys = keys

    def run(self) -> Findings:
        found = self.found
        try:
            self.manifest = json.loads(self.archive.read("manifest.json"))
            if self.manifest.get("format") != FORMAT:
                found.add(None, "manifest", f"not a bundle of format {FORMAT} ({self.manifest.get('format')!r})")
                return found
            self.first = int(self.manifest["positions"]["first"])
            self.last = int(self.manifest["positions"]["last"])
        except (KeyError, ValueError, TypeError) as error:
            found.add(None, "manifest", f"manifest.json is missing or unreadable ({error})")
            return found
        self.listed = dict(self.manifest.get("files", {}))
        self.hashed: dict[str, str] = {}
        self.check_keys()
        self.check_checkpoints()
        self.check_versions()
        self.check_records()
        self.check_files()
        return found

    # -- files and keys --

    def member(self, name: str) -> bytes | None:
        """A small member, hashed for the manifest check; None (and a break) if it is not there."""
        try:
            data = self.archive.read(name)
        except KeyError:
            self.found.add(None, "file_missing", f"{name} is not in the bundle")
            return None
        self.hashed[name] = hashlib.sha256(data).hexdigest()
        return data

    def check_files(self) -> None:
        present = set(self.archive.namelist()) - {"manifest.json"}
        for name in sorted(present - set(self.hashed)):
            with self.archive.open(name) as member:
                digest = hashlib.sha256()
                while block := member.read(CHUNK):
                    digest.update(block)
            self.hashed[name] = digest.hexdigest()
        for name in sorted(set(self.listed) | present):
            if name not in present:
                if not any(b[1] == "file_missing" and b[2].startswith(name + " ") for b in self.found.breaks):
                    self.found.add(None, "file_missing", f"{name} is listed in the manifest but not in the bundle")
            elif name not in self.listed:
                self.found.add(None, "file_unexpected", f"{name} is in the bundle but not in the manifest (added)")
            elif self.hashed[name] != self.listed[name]:
                self.found.add(None, "file_altered", f"{name} does not match the SHA-256 the manifest lists")

    def check_keys(self) -> None:
        data = self.member("keys.json")
        bundled = []
        try:
            bundled = read_keys(json.loads(data)) if data is not None else []
        except (ValueError, KeyError, TypeError) as error:
            self.found.add(None, "keys", f"keys.json is unreadable ({error})")
        if self.given_keys is None:
            self.keys = bundled
            self.found.notes.append(
                "the checkpoints were checked against the keys in the bundle: compare the signing key above with "
                "the one the service publishes at /.well-known/consent-keys.json, or run again with --keys"
            )
        else:
            self.keys = self.given_keys
            if {k.kid for k in bundled} - {k.kid for k in self.given_keys}:
                self.found.notes.append("keys.json holds keys you did not give with --keys; they were not used")

    # -- checkpoints and versions --

    def check_checkpoints(self) -> None:
        origin = self.manifest.get("log")
        self.roots: dict[int, bytes] = {}
        self.signers: set[Key] = set()
        names = sorted(n for n in self.archive.namelist() if n.startswith("checkpoints/") and n.endswith(".txt"))
        names += [n for n in self.listed if n.startswith("checkpoints/") and n not in names]
        for name in names:
            data = self.member(name)
            if data is None:
                continue
            try:
                checkpoint = read_checkpoint(data.decode(), self.keys)
            except (ValueError, UnicodeDecodeError) as error:
                self.found.add(None, "checkpoint_unreadable", f"{name}: {error}")
                continue
            if checkpoint.signer is None:
                self.found.add(
                    None,
                    "checkpoint_signature",
                    f"{name}: no valid signature by a published key (edited, or signed with another key)",
                )
                continue
            if checkpoint.origin != origin:
                self.found.add(None, "checkpoint_origin", f"{name} is a checkpoint of log {checkpoint.origin!r}")
                continue
            self.signers.add(checkpoint.signer)
            self.roots[checkpoint.size] = checkpoint.root
        anchor = self.manifest.get("checkpoint", {})
        self.size = anchor.get("tree_size")
        if self.size not in self.roots:
            self.found.add(None, "checkpoint_missing", f"no valid checkpoint of size {self.size} (the manifest's)")

    def check_versions(self) -> None:
        self.versions: set[bytes] = set()
        for name in sorted(n for n in self.archive.namelist() if n.startswith("versions/")):
            digest = name.removeprefix("versions/").removesuffix(".json")
            data = self.member(name)
            if data is not None and hashlib.sha256(data).hexdigest() != digest:
                self.found.add(None, "version_altered", f"{name} does not hash to its name (the version was edited)")
            else:
                self.versions.add(digest.encode())

    # -- records --

    def check_records(self) -> None:
        found, first, last = self.found, self.first, self.last
        try:
            proof = json.loads(self.member("range-proof.json") or b"{}")
            left = [bytes.fromhex(h) for h in proof["left"]]
            right = [bytes.fromhex(h) for h in proof["right"]]
            if (proof["first"], proof["last"], proof["tree_size"]) != (first, last, self.size):
                found.add(None, "range_proof", "the range proof is for other positions or another checkpoint")
        except (KeyError, ValueError, TypeError):
            found.add(None, "range_proof", "range-proof.json is missing or unreadable")
            left, right = [], []
        sizes = [1 << bit for bit in range(first.bit_length() - 1, -1, -1) if first >> bit & 1]
        frontier = list(zip(sizes, left)) if len(sizes) == len(left) else None
        if frontier is None:
            found.add(None, "range_proof", f"the range proof's left side does not fit a run starting at {first}")
            frontier = []
        roots = self.roots
        checked_from = first  # the first position not yet under a checkpoint found right

        personal_digest = hashlib.sha256()
        with_personal = self.manifest.get("personal_data") == "included"
        personal = self.personal_lines(personal_digest) if with_personal else None
        pending_personal = next(personal, None) if personal else None

        records_digest = hashlib.sha256()
        expected = first
        counts = {"records": 0, "in_period": 0, "purged": 0, "missing": 0, "personal_data": 0, "erased": 0}
        mismatched: dict[int, tuple[bytes, bytes]] = {}  # position -> (the record's hash, the hash listed)
        period = self.manifest.get("period") or {}
        since = (period.get("since") or "").encode() or None
        until = (period.get("until") or "").encode() or None
        sha256, unhexlify = hashlib.sha256, binascii.unhexlify
        versions = self.versions
        try:
            self.archive.getinfo("records.txt")
        except KeyError:
            found.add(None, "file_missing", "records.txt is not in the bundle")
            return
        blocks = blocks_of(self.archive, "records.txt", records_digest)
        skipped: set[int] = set()  # positions jumped over: missing, unless they come later (reordered)
        size_signed = self.size
        records = in_period = purged = missing = personal_data = erased = 0
        number = 0
        try:
            for lines in blocks:
                for line in lines:
                    number += 1
                    try:
                        position_text, leaf_text, record = line.split(b" ", 2)
                        position, leaf = int(position_text), unhexlify(leaf_text)
                        if len(leaf) != 32:
                            raise ValueError
                    except ValueError:
                        found.add(
                            None, "line_unreadable", f"records.txt line {number} is not '<position> <hash> <record>'"
                        )
                        continue
                    if position > last or position < first:
                        found.add(
                            position,
                            "position_inserted",
                            f"outside the run {first} to {last} the manifest states (a record inserted)",
                        )
                        continue
                    if position != expected:
                        if position < expected:
                            if position in skipped:
                                skipped.discard(position)
                                found.add(
                                    position,
                                    "position_reordered",
                                    f"comes after position {expected - 1} (records reordered)",
                                )
                            else:
                                found.add(
                                    position,
                                    "position_repeated",
                                    f"appears again on line {number} (a record inserted)",
                                )
                            continue
                        skipped.update(range(expected, position))
                        expected = position
                    expected += 1
                    # the tree: the hash the log committed to at this position
                    size, hashed = 1, leaf
                    while frontier and frontier[-1][0] == size:
                        size, hashed = size * 2, sha256(b"\x01" + frontier.pop()[1] + hashed).digest()
                    frontier.append((size, hashed))
                    if expected in roots and expected != size_signed:
                        if frontier_root(frontier) != roots[expected]:
                            found.add(
                                checked_from,
                                "checkpoint_root",
                                f"positions {checked_from} to {expected - 1} do "
                                f"not hash to the root the checkpoint of size {expected} signed (a record "
                                "altered, removed, inserted or reordered there)",
                            )
                        checked_from = expected
                    # the record
                    if record[:1] != b"{":
                        if record == b"purged":
                            purged += 1
                        else:
                            missing += 1
                            found.add(
                                position,
                                "record_missing",
                                "the service has no record there, and no retention purge removed it (deleted)",
                            )
                        continue
                    records += 1
                    hashed = sha256(b"\x00" + record).digest()
                    if hashed != leaf:
                        mismatched[position] = (hashed, leaf)
                    # The canonical form sorts its keys: "time" and "version" come last, at fixed places from the end.
                    if record[-79:-66] == b'","version":"':
                        version, moment = record[-66:-2], record[-106:-79]
                    else:
                        at = record.find(b'"version":"') + 11
                        version = record[at : at + 64]
                        at = record.find(b'"time":"') + 8
                        moment = record[at : at + 27]
                    if version not in versions:
                        found.add(
                            position,
                            "version_missing",
                            f"the record's version {version.decode(errors='replace')} is not in the bundle",
                        )
                    if (since is None or moment >= since) and (until is None or moment < until):
                        in_period += 1
                    if personal is not None:
                        while pending_personal is not None and pending_personal[0] < position:
                            found.add(
                                pending_personal[0],
                                "personal_unexpected",
                                "personal.txt has data for it, but it holds no record",
                            )
                            pending_personal = next(personal, None)
                        if pending_personal is None or pending_personal[0] != position:
                            found.add(position, "personal_missing", "personal.txt has no line for it")
                            continue
                        _, salt, data = pending_personal
                        pending_personal = next(personal, None)
                        if salt is None:
                            erased += 1
                            continue
                        personal_data += 1
                        at = record.find(b'"personal":"') + 12
                        if sha256(salt + data).hexdigest().encode() != record[at : at + 64]:
                            found.add(
                                position,
                                "personal_altered",
                                "the personal data do not match the digest the record holds (edited)",
                            )
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            found.add(None, "file_altered", f"records.txt cannot be read to its end ({error})")
        counts.update(records=records, in_period=in_period, purged=purged, missing=missing)
        counts.update(personal_data=personal_data, erased=erased)
        self.hashed["records.txt"] = records_digest.hexdigest()
        if personal is not None:
            while pending_personal is not None:
                found.add(
                    pending_personal[0],
                    "personal_unexpected",
                    "personal.txt has data for it, but it holds no record",
                )
                pending_personal = next(personal, None)
            self.hashed["personal.txt"] = personal_digest.hexdigest()
        for gap in sorted(skipped | set(range(expected, last + 1))):
            found.add(gap, "position_missing", "missing from the bundle (removed)")

        listed_hashes = {listed: position for position, (_, listed) in mismatched.items()}
        for position, (actual, _) in sorted(mismatched.items()):
            origin = listed_hashes.get(actual)
            if origin is not None and origin != position:
                found.add(position, "record_moved", f"holds the record of position {origin} (reordered)")
            else:
                found.add(
                    position,
                    "record_altered",
                    "the record does not match the hash the log holds for it (edited)",
                )

        if self.size in roots:
            built = root_with_right(frontier, last + 1, self.size, right)
            if built != roots[self.size]:
                found.add(
                    first,
                    "range_proof",
                    f"positions {first} to {last} and the range proof do not hash to "
                    f"the root of the checkpoint of size {self.size} (a record altered, removed, inserted or "
                    "reordered, or the proof edited)",
                )
        stated = self.manifest.get("counts", {})
        for name, value in counts.items():
            if name in stated and stated[name] != value:
                found.add(
                    None,
                    "count",
                    f"the manifest counts {stated[name]} {name.replace('_', ' ')}, the bundle holds {value}",
                )
        self.counts = counts

    def personal_lines(self, digest):
        """(position, salt or None when erased, canonical personal data) per line of personal.txt, parsed a block at
        a time (the records' loop takes them one by one, and a generator resumed per line costs as much again)."""
        number = 0

        def parsed(lines: list[bytes]) -> list[tuple[int, bytes | None, bytes | None]]:
            nonlocal number
            out = []
            for line in lines:
                number += 1
                fields = line.split(b" ", 2)
                try:
                    position = int(fields[0])
                except ValueError:
                    self.found.add(None, "line_unreadable", f"personal.txt line {number} has no position")
                    continue
                if len(fields) == 2 and fields[1] == b"erased":
                    out.append((position, None, None))
                    continue
                try:
                    out.append((position, binascii.unhexlify(fields[1]), fields[2]))
                except (binascii.Error, IndexError):
                    self.found.add(position, "line_unreadable", f"personal.txt line {number}: the salt is not hex")
            return out

        try:
            self.archive.getinfo("personal.txt")
        except KeyError:
            self.found.add(None, "file_missing", "personal.txt is not in the bundle")
            return iter(())
        return itertools.chain.from_iterable(map(parsed, blocks_of(self.archive, "personal.txt", digest)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--keys", type=Path, help="the service's /.well-known/consent-keys.json, fetched by you")
    args = parser.parse_args(argv)
    try:
        keys = read_keys(json.loads(args.keys.read_text())) if args.keys else None
        archive = zipfile.ZipFile(args.bundle)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    # The threads reading ahead (blocks_of) need the GIL back for a moment between blocks; by default they could
    # wait 5 ms for it each time, longer than their work. A shorter switch interval lets them keep ahead.
    switch = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)
    try:
        with archive:
            check = BundleCheck(archive, keys)
            found = check.run()
    finally:
        sys.setswitchinterval(switch)
    manifest = getattr(check, "manifest", {})
    if hasattr(check, "counts"):
        counts = check.counts
        print(
            f"audit bundle of {manifest.get('log')}: positions {check.first} to {check.last}, "
            f"checkpoint of size {check.size}"
        )
        period = manifest.get("period") or {}
        print(f"  period: {period.get('since') or 'the beginning'} to {period.get('until') or manifest.get('created')}")
        print(
            f"  {counts['records']} records re-hashed ({counts['in_period']} in the period), {counts['purged']} "
            f"purged, {counts['missing']} missing"
        )
        if manifest.get("personal_data") == "included":
            print(
                f"  personal data: {counts['personal_data']} checked against their digests, {counts['erased']} erased"
            )
        else:
            print("  personal data: left out of this bundle")
        print(f"  {len(check.versions)} published version(s), each matching its hash")
        for key in sorted(check.signers, key=lambda k: k.kid):
            print(f"  checkpoints signed by {key.name}, key {key.kid} ({key.note_key})")
    for note in found.notes:
        print(f"  note: {note}")
    for position, kind, message in sorted(found.breaks, key=lambda b: (b[0] is not None, b[0] or 0)):
        print(f"  BROKEN [{kind}] {'bundle' if position is None else f'position {position}'}: {message}")
    if found.breaks:
        print(f"  {len(found.breaks)} break(s)")
        return 1
    print("  OK: every record matches the signed log; nothing altered, missing, inserted or reordered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
