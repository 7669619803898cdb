#!/usr/bin/python3
"""Writes hybrid-client.xml: an hwloc 2 XML topology of a hybrid laptop part shaped like an
Intel Core i7-12700H, for the tests of topology-driven code (HWLOC_XMLFILE). Nothing here
was read off such a machine; the shape is from its public specification:
  6 performance cores (2 PUs each, L1d 48 KiB, L2 1.25 MiB each), PUs 0-11;
  8 efficiency cores (1 PU each, L1d 32 KiB, L2 2 MiB per cluster of 4), PUs 12-19;
  one L3 of 24 MiB; hwloc CPU kinds IntelCore (efficiency 1) and IntelAtom (efficiency 0).
Run it again after editing: python3 make_hybrid_client.py > hybrid-client.xml"""

gp = iter(range(2, 10_000))


def mask(pus):
    return "0x%08x" % sum(1 << p for p in pus)


def obj(kind, pus, extra="", children="", indent=2):
    pad = "  " * indent
    m = mask(pus)
    head = (f'{pad}<object type="{kind}" {extra}cpuset="{m}" complete_cpuset="{m}" '
            f'nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="{next(gp)}"')
    return head + (">\n" + children + f"{pad}</object>\n" if children else "/>\n")


def cache(level, size, pus, children, indent, ctype=0):
    kind = {1: "L1Cache", 2: "L2Cache", 3: "L3Cache"}[level]
    return obj(kind, pus, f'cache_size="{size}" depth="{level}" cache_linesize="64" '
               f'cache_associativity="0" cache_type="{ctype}" ', children, indent)


def core(index, pus, l1d, indent):
    pu_objs = "".join(obj("PU", [p], f'os_index="{p}" ', indent=indent + 2) for p in pus)
    return cache(1, l1d, pus, obj("Core", pus, f'os_index="{index}" ', pu_objs, indent + 1),
                 indent, ctype=1)


all_pus = list(range(20))
inner = ""
for c in range(6):  # performance cores: own L2
    pus = [2 * c, 2 * c + 1]
    inner += cache(2, 1310720, pus, core(c, pus, 49152, 5), 4)
for cluster in range(2):  # efficiency cores: an L2 per 4
    pus = list(range(12 + 4 * cluster, 16 + 4 * cluster))
    inner += cache(2, 2097152, pus, "".join(core(6 + 4 * cluster + i, [p], 32768, 5)
                                            for i, p in enumerate(pus)), 4)
numa = ('      <object type="NUMANode" os_index="0" cpuset="{m}" complete_cpuset="{m}" '
        'nodeset="0x00000001" complete_nodeset="0x00000001" gp_index="{g}" '
        'local_memory="17179869184">\n        <page_type size="4096" count="4194304"/>\n'
        '      </object>\n').format(m=mask(all_pus), g=next(gp))
package = obj("Package", all_pus, 'os_index="0" ',
              '      <info name="CPUVendor" value="GenuineIntel"/>\n'
              '      <info name="CPUModel" value="Hybrid client (i7-12700H shape)"/>\n'
              + numa + cache(3, 25165824, all_pus, inner, 3), 2)
m = mask(all_pus)
print(f'''<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE topology SYSTEM "hwloc2.dtd">
<topology version="2.0">
  <object type="Machine" os_index="0" cpuset="{m}" complete_cpuset="{m}" allowed_cpuset="{m}" nodeset="0x00000001" complete_nodeset="0x00000001" allowed_nodeset="0x00000001" gp_index="1">
    <info name="Backend" value="Linux"/>
    <info name="Architecture" value="x86_64"/>
{package}  </object>
  <support name="discovery.pu"/>
  <support name="discovery.numa"/>
  <cpukind cpuset="{mask(range(12, 20))}" forced_efficiency="0">
    <info name="CoreType" value="IntelAtom"/>
  </cpukind>
  <cpukind cpuset="{mask(range(0, 12))}" forced_efficiency="1">
    <info name="CoreType" value="IntelCore"/>
  </cpukind>
</topology>''')
