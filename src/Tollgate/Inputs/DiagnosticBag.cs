using Tollgate.Graph;

namespace Tollgate.Inputs;

/// <summary>Collects diagnostics while inputs are read, so one run reports every problem at once.</summary>
public sealed class DiagnosticBag
{
    private readonly List<Diagnostic> _items = [];

    public IReadOnlyList<Diagnostic> Items => _items;

    public bool HasErrors => _items.Any(d => d.Severity == DiagnosticSeverity.Error);

    public void Add(Diagnostic diagnostic) => _items.Add(diagnostic);

    public void Error(string id, string message, SourceLocation? location = null, string? hint = null) =>
        _items.Add(new Diagnostic(id, DiagnosticSeverity.Error, message, location, hint));

    public void Warning(string id, string message, SourceLocation? location = null, string? hint = null) =>
        _items.Add(new Diagnostic(id, DiagnosticSeverity.Warning, message, location, hint));

    public void Info(string id, string message, SourceLocation? location = null, string? hint = null) =>
        _items.Add(new Diagnostic(id, DiagnosticSeverity.Info, message, location, hint));
}
