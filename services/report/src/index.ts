export { buildReport, selectRuns, REPORT_DASHBOARDS, ReportSelectionError, type ReportModel, type ReportRequest, type RunInfo, type SectionModel, type PanelModel } from './report-model.ts';
export { panelView, cellText, PHASE_COLORS, type PanelView, type ChartView, type TableView, type Marks, type PhaseSpan, type StopMark } from './charts.ts';
export { reportHtml, livePageHtml, scriptJson } from './page.ts';
export { startUi, listRuns, requestFrom, type UiOptions, type UiServer } from './server.ts';
export { writeReport } from './write-report.ts';
