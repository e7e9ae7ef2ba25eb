# SPDX-License-Identifier: BSD-3-Clause
"""Set-up shared by the python tests that run probes in network
namespaces (tests/accuracy, tests/capacity): namespaces and veths, the
processes started in them, DPDK's options and files, cleanup. The shell
twin is tests/lib/mpnet.sh (on scripts/netns.sh).

    net = Net("acc", "ALB", "accuracy")   # namespaces accA<tag>, accL<tag>..
    net.up()                              # IPv6 off, lo up
    net.veth("A", "va", "L", "la")
    p = net.spawn("B", net.probe_cmd(metroprobe, "b", 0, "vb", [...]),
                  net.path("b.log"))
    net.wait_text(p, net.path("b.log"), "single lcore", "probe B")
    ...
    net.down()                            # processes, namespaces, files

Every name carries a tag of the pid and 16 random bits, so tests running
at the same time never collide.
"""
import os
import random
import shutil
import subprocess
import tempfile
import time


class Fail(Exception):
    pass


class Retry(Fail):
    """Most likely the machine, not the code under test: a program did not
    come up or go down in time (starved of CPU by real-time tasks)."""


def sh(*args, check=True):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise Fail("command failed (%d): %s\n%s%s" %
                   (r.returncode, " ".join(args), r.stdout, r.stderr))
    return r


def stop(p, sig, what, timeout=30, on_timeout=Fail):
    """Signal p and wait for it: its exit status, or on_timeout raised."""
    p.send_signal(sig)
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise on_timeout("%s did not stop" % what)


class Net:
    def __init__(self, prefix, names, tmp_prefix, keep_env=None):
        """Namespaces prefix + name + tag, one per letter of names; a
        scratch directory tmp_prefix-tag-*, kept at down() when the
        environment variable keep_env is set."""
        self.tag = "%d%04x" % (os.getpid(), random.getrandbits(16))
        self.prefix = prefix
        self.ns = {x: "%s%s%s" % (prefix, x, self.tag) for x in names}
        self.tmp = tempfile.mkdtemp(prefix="%s-%s-" % (tmp_prefix, self.tag))
        self.keep_env = keep_env
        self.procs = []
        self.prefixes = []

    def x(self, ns, *args, check=True):
        """A command in namespace ns (a letter of names)."""
        return sh("ip", "netns", "exec", self.ns[ns], *args, check=check)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def up(self):
        for ns in self.ns:
            sh("ip", "netns", "add", self.ns[ns])
            # IPv6 off: no router solicitations or MLD on the wires;
            # every frame is the test's.
            self.x(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                   "net.ipv6.conf.default.disable_ipv6=1")
            self.x(ns, "ip", "link", "set", "lo", "up")

    def veth(self, ns1, if1, ns2, if2):
        """A veth pair if1 (in ns1) <-> if2 (in ns2), IPv6 off, up."""
        sh("ip", "link", "add", if1, "netns", self.ns[ns1], "type", "veth",
           "peer", "name", if2, "netns", self.ns[ns2])
        for ns, ifc in ((ns1, if1), (ns2, if2)):
            self.x(ns, "sysctl", "-qw",
                   "net.ipv6.conf.%s.disable_ipv6=1" % ifc)
            self.x(ns, "ip", "link", "set", "dev", ifc, "up")

    def bridge(self, ns, br, ports):
        """A Linux bridge br in ns over the given interfaces, up."""
        self.x(ns, "ip", "link", "add", br, "type", "bridge")
        for ifc in ports:
            self.x(ns, "ip", "link", "set", "dev", ifc, "master", br)
        self.x(ns, "ip", "link", "set", "dev", br, "up")

    def spawn(self, ns, cmd, out):
        """cmd in namespace ns, stdout and stderr to the file out; killed
        at down() if still running."""
        f = open(out, "w")
        p = subprocess.Popen(["ip", "netns", "exec", self.ns[ns]] + cmd,
                             stdout=f, stderr=subprocess.STDOUT)
        f.close()
        self.procs.append(p)
        return p

    def wait_text(self, p, path, text, what, timeout=45, log=None,
                  on_timeout=Fail):
        """Until the file path holds text. Raises Fail with the log (the
        file log, else path) if p exits first, on_timeout if the time is
        up (p killed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(path):
                with open(path) as f:
                    if text in f.read():
                        return
            if p.poll() is not None:
                break
            time.sleep(0.05)
        with open(log or path) as f:
            out = f.read()
        if p.poll() is None:
            p.kill()
            raise on_timeout("%s: no '%s' within %d s:\n%s" %
                             (what, text, timeout, out))
        raise Fail("%s exited %d at start:\n%s" % (what, p.returncode, out))

    def file_prefix(self, name):
        """A DPDK --file-prefix of this run, its files removed at down()."""
        prefix = "%s%s%s" % (self.prefix, self.tag, name)
        self.prefixes.append(prefix)
        return prefix

    def eal(self, name, lcore):
        """EAL options of a test probe: no hugepages, no PCI (never the
        machine's own NIC), its own file prefix, quiet EAL."""
        return ["-l", str(lcore), "--no-huge", "--no-pci", "-m", "256",
                "--file-prefix", self.file_prefix(name),
                "--log-level=lib.eal:error",
                "--log-level=pmd.net.af_packet:error"]

    def probe_cmd(self, metroprobe, name, lcore, iface, args):
        """metroprobe on net_af_packet0 over iface with these options."""
        return ([metroprobe] + self.eal(name, lcore) +
                ["--vdev=net_af_packet0,iface=%s" % iface, "--"] + args)

    def linkem_cmd(self, linkem, name, if_a, if_b, args, rt_prio=None):
        """linkem on lcore 1 forwarding if_a <-> if_b, sleeping when idle;
        under chrt -f rt_prio when given and chrt exists (real-time
        priority, so a loaded machine does not make departures late)."""
        rt = (["chrt", "-f", str(rt_prio)]
              if rt_prio is not None and shutil.which("chrt") else [])
        return rt + [
            linkem, "-l", "1", "--no-huge", "-m", "128", "--no-pci",
            "--file-prefix", self.file_prefix(name),
            "--log-level", "lib.eal:error",
            "--vdev", "net_af_packet0,iface=%s" % if_a,
            "--vdev", "net_af_packet1,iface=%s" % if_b, "--",
            "--idle-sleep", "20"] + args

    def kill_left(self):
        """Kill what is still running (a failed attempt's processes)."""
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass

    def down(self):
        self.kill_left()
        for ns in self.ns.values():
            sh("ip", "netns", "del", ns, check=False)
        for prefix in self.prefixes:
            shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)
        if self.keep_env and os.environ.get(self.keep_env):
            print("kept " + self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
