// Writes the Second Life message layouts that OpenMetaverse.dll (shipped in OpenSimulator's bin/)
// was generated from, in message_template.msg form, by reflection and probing of its packet classes.
using System;
using System.Collections.Generic;
using System.Reflection;
using System.Text;
using OpenMetaverse;
using OpenMetaverse.Packets;

public static class DumpTemplate {
    static string TypeName(Type t, FieldInfo f, object block) {
        if (t == typeof(byte)) return "U8";
        if (t == typeof(sbyte)) return "S8";
        if (t == typeof(ushort)) return f.Name.EndsWith("Port") ? "IPPORT" : "U16";
        if (t == typeof(short)) return "S16";
        if (t == typeof(uint)) return (f.Name.EndsWith("IP") || f.Name == "IP") ? "IPADDR" : "U32";
        if (t == typeof(int)) return "S32";
        if (t == typeof(ulong)) return "U64";
        if (t == typeof(long)) return "S64";
        if (t == typeof(float)) return "F32";
        if (t == typeof(double)) return "F64";
        if (t == typeof(bool)) return "BOOL";
        if (t == typeof(UUID)) return "LLUUID";
        if (t == typeof(Vector3)) return "LLVector3";
        if (t == typeof(Vector3d)) return "LLVector3d";
        if (t == typeof(Vector4)) return "LLVector4";
        if (t == typeof(Quaternion)) return "LLQuaternion";
        return "?" + t.Name;
    }
    static object Fill(Type blockType, byte value) {
        byte[] buf = new byte[1 << 20];
        for (int k = 0; k < buf.Length; k++) buf[k] = value;
        object block = Activator.CreateInstance(blockType);
        MethodInfo from = blockType.GetMethod("FromBytes", new Type[] { typeof(byte[]), typeof(int).MakeByRefType() });
        object[] args = new object[] { buf, 0 };
        from.Invoke(block, args);
        return block;
    }
    public static void Main() {
        var sb = new StringBuilder();
        foreach (PacketType pt in Enum.GetValues(typeof(PacketType))) {
            if (pt == PacketType.Default) continue;
            Packet p;
            try { p = Packet.BuildPacket(pt); } catch { continue; }
            if (p == null) continue;
            Type ptype = p.GetType();
            string freq = p.Header.Frequency.ToString();
            if (freq == "Low" && p.Header.ID >= 0xFFFA) freq = "Fixed";  // 0xFFFFFFxx on the wire
            string num = freq == "Fixed" ? "0xFFFF" + ((uint)p.Header.ID).ToString("X4") : ((uint)p.Header.ID).ToString();
            sb.AppendFormat("// {0}\n{{\n\t{0} {1} {2} NotTrusted {3}\n", pt, freq, num, p.Header.Zerocoded ? "Zerocoded" : "Unencoded");
            foreach (FieldInfo bf in ptype.GetFields(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)) {
                Type bt = bf.FieldType;
                string kind;
                Type blockType;
                if (bt.IsArray) {
                    blockType = bt.GetElementType();
                    Array arr = (Array)bf.GetValue(p);
                    kind = (arr != null && arr.Length > 0) ? "Multiple " + arr.Length : "Variable";
                } else {
                    blockType = bt; kind = "Single";
                }
                if (!typeof(PacketBlock).IsAssignableFrom(blockType)) continue;
                sb.AppendFormat("\t{{\n\t\t{0} {1}\n", bf.Name, kind);
                object zeros = Fill(blockType, 0), ones = Fill(blockType, 1);
                foreach (FieldInfo f in blockType.GetFields(BindingFlags.Public | BindingFlags.Instance)) {
                    string tn;
                    if (f.FieldType == typeof(byte[])) {
                        int z = ((byte[])f.GetValue(zeros)).Length, o = ((byte[])f.GetValue(ones)).Length;
                        if (z > 0 && z == o) tn = "Fixed " + z;
                        else if (o == 1) tn = "Variable 1";
                        else if (o == 257) tn = "Variable 2";
                        else tn = "?bytes " + z + "/" + o;
                    } else tn = TypeName(f.FieldType, f, zeros);
                    sb.AppendFormat("\t\t{{ {0} {1} }}\n", f.Name, tn);
                }
                sb.Append("\t}\n");
            }
            sb.Append("}\n\n");
        }
        Console.Write("// Second Life message layouts, written by tests/data/opensim/dump_template.cs from the\n// OpenMetaverse.dll of OpenSimulator 0.9.2.2 (libopenmetaverse, BSD licence). Trust is not recorded there:\n// every message says NotTrusted.\nversion 2.0\n\n" + sb.ToString());
    }
}
DumpTemplate.Main();
