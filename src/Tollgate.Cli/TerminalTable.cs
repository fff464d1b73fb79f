using Spectre.Console;
using Spectre.Console.Rendering;

namespace Tollgate.Cli;

/// <summary>
/// A table for the terminal that never breaks a package name, version, id or purl in the middle: those columns do not
/// wrap, only the columns named as text do. When even that does not fit the console's width (80 columns, say),
/// the rows are printed as a list instead: the first cell as a heading, the others as "Header: value" lines.
/// Cells are Spectre markup.
/// </summary>
internal sealed class TerminalTable
{
    private const int MinTextWidth = 16;
    private readonly string[] _headers;
    private readonly bool[] _text;
    private readonly List<string[]> _rows = [];

    /// <param name="headers">Column headers, in order.</param>
    /// <param name="textColumns">Headers of the columns holding prose that may wrap at spaces (summaries, paths).</param>
    public TerminalTable(IReadOnlyList<string> headers, params string[] textColumns)
    {
        _headers = [.. headers];
        _text = [.. headers.Select(textColumns.Contains)];
    }

    public int Count => _rows.Count;

    public TerminalTable AddRow(params string[] cells)
    {
        _rows.Add(cells);
        return this;
    }

    public void Write(IAnsiConsole console)
    {
        if (_rows.Count == 0)
        {
            return;
        }
        if (Fits(console.Profile.Width))
        {
            var table = new Table().Border(TableBorder.Rounded);
            for (var i = 0; i < _headers.Length; i++)
            {
                var column = new TableColumn(Markup.Escape(_headers[i]));
                if (!_text[i])
                {
                    column.NoWrap();
                }
                table.AddColumn(column);
            }
            foreach (var row in _rows)
            {
                table.AddRow(row.Select(c => (IRenderable)new Markup(c)).ToArray());
            }
            console.Write(table);
            return;
        }
        foreach (var row in _rows)
        {
            // A row continuing the one above (first cell empty) is listed under the same heading.
            if (row[0].Length > 0)
            {
                console.MarkupLine($"[bold]{row[0]}[/]");
            }
            for (var i = 1; i < _headers.Length && i < row.Length; i++)
            {
                if (row[i].Length > 0)
                {
                    console.MarkupLine($"  {Markup.Escape(_headers[i])}: {row[i]}");
                }
            }
        }
    }

    /// <summary>True when every token column fits whole and every text column gets a readable width.</summary>
    private bool Fits(int width)
    {
        var needed = 1;
        for (var i = 0; i < _headers.Length; i++)
        {
            var cells = _rows.Select(r => i < r.Length ? Markup.Remove(r[i]) : "").Append(_headers[i]).ToList();
            var widest = cells.Max(c => c.Split('\n').Max(line => line.Length));
            // A text column wraps at spaces but never below its longest word, which Spectre keeps whole.
            var longestWord = cells.Max(c => c.Split([' ', '\n']).Max(w => w.Length));
            needed += (_text[i] ? Math.Max(longestWord, Math.Min(widest, MinTextWidth)) : widest) + 3;
        }
        return needed <= width;
    }
}
