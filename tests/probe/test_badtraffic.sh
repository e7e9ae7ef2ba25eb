#!/usr/bin/env bash
# Bad traffic: while a session runs each way between two probes on a
# veth pair, a raw socket in B's namespace sends probe A truncated,
# wrong-version, oversized, non-STAMP, short, bad-checksum and random UDP
# frames. The sessions' figures must be unchanged (no loss, every packet
# back) and A's drop counters, read through DPDK telemetry and in A's
# last record, must equal what was sent, reason by reason.
source "$(dirname "$0")/../lib/mpnet.sh"
probe_tmp mpp-bad
netns_pair || fail "cannot create the namespaces and their veth pair"
mac_a=$(mac_of "$a" va)

probe_start a "$a" 0 va \
  --port name=centre-a,device=net_af_packet0,ipv4=10.80.0.1/24,max_frame=1000,strict_mbz=true \
  --session name=a-to-b,port=centre-a,peer=10.80.0.2,rate_pps=100
probe_start b "$b" 1 vb \
  --port name=centre-b,device=net_af_packet0,ipv4=10.80.0.2/24 \
  --session name=b-to-a,port=centre-b,peer=10.80.0.1,rate_pps=100
probe_wait_started a b
sleep 2.5

ip netns exec "$b" /usr/bin/python3 - "$mac_a" >"$TMP/sent.json" <<'PY' || fail "sending bad traffic"
import json, os, random, socket, struct, sys
random.seed(862)
dst = bytes.fromhex(sys.argv[1].replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("vb", 0))
src = s.getsockname()[4]
A, B = socket.inet_aton("10.80.0.1"), socket.inet_aton("10.80.0.2")

def csum(data):
    if len(data) % 2:
        data += b"\0"
    t = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff

def ipv4(payload, proto=17, total=None, version=4):
    tl = total if total is not None else 20 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", version << 4 | 5, 0, tl, 0, 0x4000, 64,
                    proto, 0, B, A)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload

def udp(dport, payload, sport=33000, good_sum=True):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    pseudo = B + A + struct.pack("!BBH", 0, 17, len(u))
    c = csum(pseudo + u) or 0xffff
    if not good_sum:
        c = (c + 1) & 0xffff or 1
    return u[:6] + struct.pack("!H", c) + u[8:]

def send(l3):
    frame = dst + src + b"\x08\x00" + l3
    s.send(frame + b"\0" * max(0, 60 - len(frame)))

def stamp(mbz_junk=False, length=44):
    p = struct.pack("!IQHH", 7, 0, 0x0001, 1) + b"\0" * 28
    if mbz_junk:
        p = p[:20] + b"\x5a" * 24
    return p[:length]

sent = {}
def count(reason, n):
    sent[reason] = sent.get(reason, 0) + n

for _ in range(5):   # IP total length beyond the frame
    send(ipv4(udp(862, stamp()), total=400)); count("ip_truncated", 1)
for _ in range(6):   # IP version 5 under an IPv4 ethertype
    send(ipv4(udp(862, stamp()), version=5)); count("ip_version", 1)
for _ in range(7):   # 1200-octet STAMP: frame above max_frame = 1000
    send(ipv4(udp(862, stamp() + bytes(1156)))); count("stamp_oversize", 1)
for _ in range(8):   # not STAMP: must-be-zero octets set (strict_mbz)
    send(ipv4(udp(862, stamp(mbz_junk=True)))); count("stamp_malformed", 1)
for _ in range(4):   # shorter than any STAMP/TWAMP-Light packet
    send(ipv4(udp(862, stamp(length=10)))); count("stamp_short", 1)
for _ in range(3):   # UDP checksum wrong
    send(ipv4(udp(862, stamp(), good_sum=False))); count("udp_checksum", 1)
for _ in range(9):   # random UDP to ports nobody listens on
    port = random.choice([p for p in range(1024, 49000) if p != 862])
    send(ipv4(udp(port, os.urandom(random.randint(1, 300))))); count("udp_port", 1)
for _ in range(2):   # not UDP at all (protocol 253, experimental)
    send(ipv4(os.urandom(30), proto=253)); count("ip_proto", 1)
json.dump(sent, sys.stdout)
PY
echo "  sent: $(cat "$TMP/sent.json")"
sleep 1
# (a loaded machine can refuse the odd connection: retry a few times)
for try in 1 2 3 4 5; do
  printf '/metroprobe/drops\n/metroprobe/port,centre-a\n/metroprobe/sessions\n/metroprobe/session,a-to-b\n/metroprobe/clock\n' |
    dpdk-telemetry.py -f "${NETNS_TAG}-a" >"$TMP/tel.txt" 2>&1
  grep -q '"/metroprobe/clock"' "$TMP/tel.txt" && break
  sleep 0.2
done
sed 's/^/  telemetry: /' "$TMP/tel.txt" | cut -c1-400
sleep 1
probe_stop INT a b
grep 'session\|error' "$TMP/a.log" "$TMP/b.log" | sed 's/^/  /'

$CHECK --records "$TMP/a.jsonl" --records "$TMP/b.jsonl" \
  --session a-to-b:100 --session b-to-a:100 --log "$TMP/a.log" \
  --log "$TMP/b.log" --no-loss --min-full 2 || fail "session figures changed"

/usr/bin/python3 - "$TMP/sent.json" "$TMP/tel.txt" "$TMP/a.jsonl" <<'PY' || fail "drop counters differ from what was sent"
import json, sys
sent = json.load(open(sys.argv[1]))
tel = {}
for line in open(sys.argv[2]):
    line = line.strip()
    if line.startswith("{"):
        tel.update(json.loads(line))
drops = {k: v for k, v in tel["/metroprobe/drops"].items() if v}
port = tel["/metroprobe/port"]
last = [json.loads(l) for l in open(sys.argv[3])][-1]
bad = 0
if drops != sent:
    print("FAIL telemetry drops %r != sent %r" % (drops, sent)); bad += 1
if {k: port[k] for k in sent} != sent:
    print("FAIL /metroprobe/port drops differ"); bad += 1
if last.get("drops") != sent:
    print("FAIL last record drops %r != sent %r" % (last.get("drops"), sent)); bad += 1
if tel["/metroprobe/sessions"] != ["a-to-b"]:
    print("FAIL sessions list %r" % tel["/metroprobe/sessions"]); bad += 1
if tel["/metroprobe/session"]["state"] != "running":
    print("FAIL session state %r" % tel["/metroprobe/session"]); bad += 1
clk = tel["/metroprobe/clock"]
# the TSC conversion, free-running for a second between refreshes, must be
# within 1 us of CLOCK_REALTIME when refreshed (drift well under 1 us/min)
if clk["refreshes"] < 2 or abs(clk["last_correction_ns"]) >= 1000:
    print("FAIL clock calibration %r" % clk); bad += 1
print("clock: %r" % clk)
print("drops by reason (telemetry = record = sent): %r" % drops)
sys.exit(1 if bad else 0)
PY
echo "PASS: bad traffic dropped and counted, sessions unchanged"
