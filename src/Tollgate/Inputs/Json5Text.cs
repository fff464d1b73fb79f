using System.Text;

namespace Tollgate.Inputs;

/// <summary>
/// Rewrites the JSON5 that configuration files use (Renovate's renovate.json5) as JSON with the same lines and
/// columns: unquoted keys are quoted, single-quoted strings become double-quoted, comments become spaces. Trailing
/// commas are left for the JSON reader, which accepts them. Hexadecimal numbers, Infinity and NaN are not rewritten
/// (the JSON reader then reports them where they are).
/// </summary>
public static class Json5Text
{
    public static string ToJson(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(text.Length + 64);
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '/' && i + 1 < text.Length && text[i + 1] == '/')
            {
                while (i < text.Length && text[i] != '\n')
                {
                    sb.Append(' ');
                    i++;
                }
                continue;
            }
            if (c == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? text.Length : end + 2;
                for (; i < end; i++)
                {
                    sb.Append(text[i] is '\n' or '\r' ? text[i] : ' ');
                }
                continue;
            }
            if (c is '"' or '\'')
            {
                sb.Append('"');
                i++;
                while (i < text.Length && text[i] != c)
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        // \' needs no escape in JSON; every other escape stays as written.
                        if (text[i + 1] == '\'')
                        {
                            sb.Append('\'');
                        }
                        else
                        {
                            sb.Append(text, i, 2);
                        }
                        i += 2;
                        continue;
                    }
                    if (c == '\'' && text[i] == '"')
                    {
                        sb.Append("\\\"");
                        i++;
                        continue;
                    }
                    sb.Append(text[i]);
                    i++;
                }
                sb.Append('"');
                i++;
                continue;
            }
            if (char.IsLetter(c) || c is '_' or '$')
            {
                var start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '_' or '$'))
                {
                    i++;
                }
                var word = text[start..i];
                var next = i;
                while (next < text.Length && text[next] is ' ' or '\t')
                {
                    next++;
                }
                var isKey = next < text.Length && text[next] == ':' && word is not ("true" or "false" or "null");
                sb.Append(isKey ? "\"" + word + "\"" : word);
                continue;
            }
            sb.Append(c);
            i++;
        }
        return sb.ToString();
    }
}
